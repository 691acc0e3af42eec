// SPDX-License-Identifier: MIT
//
// Catalog coverage: which names of docs/benchmark-catalog.md this build
// implements.

#include "reports.h"

#include "format.h"

#include <sstream>

std::string Reports::coverage() const
{
	std::vector<std::string> missing;
	size_t n = 0;
	for (const char *name : kCatalog) {
		n++;
		// "base/{1,2,4,8}": implemented when every expansion is.
		std::string s = name;
		size_t b = s.find('{');
		bool ok = true;
		if (b != std::string::npos && s.back() == '}') {
			std::stringstream list(
				s.substr(b + 1, s.size() - b - 2));
			std::string item;
			while (std::getline(list, item, ','))
				ok &= is_impl(s.substr(0, b) + item);
		} else {
			ok = is_impl(s);
		}
		if (!ok)
			missing.push_back(name);
	}
	std::string out = "## Catalog coverage\n\n" +
			  std::to_string(n - missing.size()) + " of " +
			  std::to_string(n) + " catalog names implemented.";
	if (missing.empty())
		out += "\n";
	else
		out += " Not yet implemented:\n" + wrap_list(missing, 78, " ");
	std::vector<std::string> peers_missing;
	for (const char *b :
	     { "eventlog_append", "eventlog_read", "kvstore_put_strict" })
		if (!is_impl(b))
			peers_missing.push_back(b);
	out += "Not yet implemented on the runstate side of reports 5 and "
	       "6: " +
	       (peers_missing.empty() ? std::string("nothing.\n")
				      : wrap_list(peers_missing, 78, ""));
	return out;
}
