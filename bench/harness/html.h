// SPDX-License-Identifier: MIT
//
// report.html: the reports as report.md has them (its Markdown turned
// into HTML: headings, lists, quotes, tables, paragraphs) with the charts
// of Reports::charts() under their sections. Each chart is drawn by
// gnuplot from files written here: <dir>/charts/<id>.dat (the values,
// with the text the tables print for them) and <id>.gp (the script),
// giving <id>.svg, which the page links; gnuplot's messages go to
// <id>.log.

#ifndef RS_BENCH_HTML_H
#define RS_BENCH_HTML_H

#include "reports.h"

#include <string>
#include <vector>

// Writes <dir>/report.html and <dir>/charts/. envtxt and text are the
// environment section and the reports, as written to report.md. A chart
// gnuplot could not draw is named on stderr and on the page; false only
// when the page itself could not be written (*err says why).
bool write_html_report(const std::string &dir, const std::string &envtxt,
		       const std::string &text,
		       const std::vector<Chart> &charts, std::string *err);

#endif
