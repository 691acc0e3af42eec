# SPDX-License-Identifier: MIT
#
# Builds the addon against a static librunstate.a: by default the in-tree
# build that ../../scripts/test and `npm run build:lib` make
# (../../build/node), or the one named by RUNSTATE_LIB_DIR (a directory
# holding librunstate.a) and RUNSTATE_INCLUDE_DIR (holding runstate.h).
# The library's own dependencies come from pkg-config.
{
  "variables": {
    "rs_lib_dir%": "<!(node -p \"process.env.RUNSTATE_LIB_DIR || require('path').resolve('../../build/node')\")",
    "rs_include_dir%": "<!(node -p \"process.env.RUNSTATE_INCLUDE_DIR || require('path').resolve('../../include')\")"
  },
  "targets": [
    {
      "target_name": "runstate",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(rs_include_dir)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": [
        "<(rs_lib_dir)/librunstate.a",
        "<!@(pkg-config --libs liburcu-memb liburcu-cds libxxhash libsodium)",
        "-lpthread"
      ]
    }
  ]
}
