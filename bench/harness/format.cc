// SPDX-License-Identifier: MIT

#include "format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

std::string fmt(const char *f, double v)
{
	char buf[64];
	std::snprintf(buf, sizeof(buf), f, v);
	return buf;
}

std::string fmt_ns(double ns)
{
	if (ns < 0 || std::isnan(ns))
		return "?";
	if (ns < 10)
		return fmt("%.2f ns", ns);
	if (ns < 1000)
		return fmt("%.1f ns", ns);
	if (ns < 1e6)
		return fmt("%.2f µs", ns / 1e3);
	if (ns < 1e9)
		return fmt("%.2f ms", ns / 1e6);
	return fmt("%.2f s", ns / 1e9);
}

std::string fmt_x(double r)
{
	if (std::isnan(r) || std::isinf(r))
		return "?";
	if (r < 10)
		return fmt("%.2f×", r);
	if (r < 1000)
		return fmt("%.1f×", r);
	return fmt("%.0f×", r);
}

std::string fmt_rate(double ops)
{
	if (ops >= 1e6)
		return fmt("%.2fM ops/s", ops / 1e6);
	if (ops >= 1e3)
		return fmt("%.1fK ops/s", ops / 1e3);
	return fmt("%.0f ops/s", ops);
}

size_t width(const std::string &s)
{
	size_t w = 0;
	for (unsigned char c : s)
		w += (c & 0xc0) != 0x80;
	return w;
}

std::string pad(const std::string &s, size_t w)
{
	size_t sw = width(s);
	return sw >= w ? s : s + std::string(w - sw, ' ');
}

std::string Table::str() const
{
	std::vector<size_t> w(head.size(), 3);
	for (size_t i = 0; i < head.size(); i++)
		w[i] = std::max(w[i], width(head[i]));
	for (const auto &r : rows)
		for (size_t i = 0; i < r.size() && i < w.size(); i++)
			w[i] = std::max(w[i], width(r[i]));
	std::string out;
	auto line = [&](const std::vector<std::string> &r) {
		out += "|";
		for (size_t i = 0; i < w.size(); i++)
			out += " " + pad(i < r.size() ? r[i] : "", w[i]) + " |";
		out += "\n";
	};
	line(head);
	out += "|";
	for (size_t i = 0; i < w.size(); i++)
		out += std::string(w[i] + 2, '-') + "|";
	out += "\n";
	for (const auto &r : rows)
		line(r);
	return out;
}

std::string wrap_list(const std::vector<std::string> &items, size_t cols,
		      const std::string &indent)
{
	std::string out, line = indent;
	for (size_t i = 0; i < items.size(); i++) {
		std::string item =
			items[i] + (i + 1 < items.size() ? "," : ".");
		if (width(line) + 1 + width(item) > cols &&
		    line.size() > indent.size()) {
			out += line + "\n";
			line = indent;
		}
		if (line.size() > indent.size())
			line += " ";
		line += item;
	}
	if (line.size() > indent.size())
		out += line + "\n";
	return out;
}
