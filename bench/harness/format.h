// SPDX-License-Identifier: MIT
//
// Text for the reports: numbers in adaptive units and Markdown tables that
// also read well in a terminal.

#ifndef RS_BENCH_FORMAT_H
#define RS_BENCH_FORMAT_H

#include <cstddef>
#include <string>
#include <vector>

// printf of one double with format f.
std::string fmt(const char *f, double v);
// A duration in adaptive units ("12.3 ns", "4.56 µs", ...).
std::string fmt_ns(double ns);
// A ratio ("1.23×", "45.6×", "789×").
std::string fmt_x(double r);
// A throughput ("1.23M ops/s", "45.6K ops/s", "789 ops/s").
std::string fmt_rate(double ops);

// Display width of UTF-8 text (code points; all ours are one column).
size_t width(const std::string &s);
std::string pad(const std::string &s, size_t w);

// A Markdown pipe table, padded so it also reads well in a terminal.
struct Table {
	std::vector<std::string> head;
	std::vector<std::vector<std::string>> rows;

	void add(std::vector<std::string> r)
	{
		rows.push_back(std::move(r));
	}

	std::string str() const;
};

// Word-wrap a list for the report: "a, b, c." in lines of at most cols,
// each starting with indent.
std::string wrap_list(const std::vector<std::string> &items, size_t cols,
		      const std::string &indent);

#endif
