// SPDX-License-Identifier: MIT

#include "html.h"

#include "format.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

// ---- the Markdown of the reports, as HTML ----

std::string esc(const std::string &s)
{
	std::string o;
	for (char c : s)
		switch (c) {
		case '&':
			o += "&amp;";
			break;
		case '<':
			o += "&lt;";
			break;
		case '>':
			o += "&gt;";
			break;
		case '"':
			o += "&quot;";
			break;
		default:
			o += c;
		}
	return o;
}

// Escaped, with **strong** and `code` spans.
std::string inline_md(const std::string &s)
{
	std::string o;
	bool strong = false, code = false;
	for (size_t i = 0; i < s.size(); i++) {
		size_t run = 0;
		while (s[i + run] == '*')
			run++;
		if (!code && run == 2) {
			o += strong ? "</strong>" : "<strong>";
			strong = !strong;
			i++;
		} else if (run > 2) {
			// Literal, as in "***WARNING***".
			o += s.substr(i, run);
			i += run - 1;
		} else if (s[i] == '`') {
			o += code ? "</code>" : "<code>";
			code = !code;
		} else {
			o += esc(std::string(1, s[i]));
		}
	}
	if (code)
		o += "</code>";
	if (strong)
		o += "</strong>";
	return o;
}

std::string trim(const std::string &s)
{
	size_t a = s.find_first_not_of(" \t");
	if (a == std::string::npos)
		return "";
	size_t b = s.find_last_not_of(" \t");
	return s.substr(a, b - a + 1);
}

std::vector<std::string> cells(const std::string &line)
{
	std::vector<std::string> c;
	std::string t = trim(line);
	if (!t.empty() && t.front() == '|')
		t.erase(0, 1);
	if (!t.empty() && t.back() == '|')
		t.pop_back();
	std::stringstream ss(t);
	std::string cell;
	while (std::getline(ss, cell, '|'))
		c.push_back(trim(cell));
	return c;
}

bool rule_row(const std::string &line)
{
	return line.find_first_not_of("|- ") == std::string::npos;
}

std::string slug(const std::string &s)
{
	std::string o;
	for (unsigned char c : s)
		if (std::isalnum(c))
			o += static_cast<char>(std::tolower(c));
		else if (!o.empty() && o.back() != '-')
			o += '-';
	while (!o.empty() && o.back() == '-')
		o.pop_back();
	return o;
}

// One block of lines of the same kind (a table, a list, a quote, a
// paragraph) at a time; `section` is called before every "## " heading
// and at the end, so charts can close the section before.
template <typename OnSection>
std::string md_to_html(const std::string &md, OnSection section)
{
	std::vector<std::string> lines;
	std::stringstream ss(md);
	for (std::string l; std::getline(ss, l);)
		lines.push_back(l);
	std::string o, heading;
	size_t i = 0;
	auto starts = [](const std::string &l, const char *p) {
		return l.rfind(p, 0) == 0;
	};
	while (i < lines.size()) {
		const std::string &l = lines[i];
		if (trim(l).empty()) {
			i++;
		} else if (starts(l, "# ")) {
			o += "<h1>" + inline_md(l.substr(2)) + "</h1>\n";
			i++;
		} else if (starts(l, "## ")) {
			o += section(heading);
			heading = l.substr(3);
			o += "<h2 id=\"" + slug(heading) + "\">" +
			     inline_md(heading) + "</h2>\n";
			i++;
		} else if (starts(l, "### ")) {
			o += "<h3>" + inline_md(l.substr(4)) + "</h3>\n";
			i++;
		} else if (starts(l, "|")) {
			o += "<div class=\"table\"><table>\n";
			bool head = true;
			for (; i < lines.size() && starts(lines[i], "|"); i++) {
				if (rule_row(lines[i]))
					continue;
				const char *td = head ? "th" : "td";
				o += "<tr>";
				for (const auto &c : cells(lines[i]))
					o += std::string("<") + td + ">" +
					     inline_md(c) + "</" + td + ">";
				o += "</tr>\n";
				head = false;
			}
			o += "</table></div>\n";
		} else if (starts(l, "- ")) {
			o += "<ul>\n";
			for (; i < lines.size() && starts(lines[i], "- "); i++)
				o += "<li>" + inline_md(lines[i].substr(2)) +
				     "</li>\n";
			o += "</ul>\n";
		} else if (starts(l, ">")) {
			std::string q;
			for (; i < lines.size() && starts(lines[i], ">"); i++)
				q += (q.empty() ? "" : " ") +
				     trim(lines[i].substr(1));
			o += "<blockquote>" + inline_md(q) + "</blockquote>\n";
		} else {
			// A paragraph: lines up to a blank line or another
			// kind of block; indented lines continue it.
			std::string p;
			for (;
			     i < lines.size() && !trim(lines[i]).empty() &&
			     !starts(lines[i], "#") && !starts(lines[i], "|") &&
			     !starts(lines[i], "- ") && !starts(lines[i], ">");
			     i++)
				p += (p.empty() ? "" : " ") + trim(lines[i]);
			o += "<p>" + inline_md(p) + "</p>\n";
		}
	}
	return o + section(heading);
}

// ---- the charts ----

// Okabe-Ito colours, distinguishable with the common colour blindnesses.
const char *const kColours[] = { "#0072B2", "#E69F00", "#009E73", "#CC79A7",
				 "#56B4E9", "#D55E00", "#F0E442", "#000000" };

// A quoted gnuplot string.
std::string q(const std::string &s)
{
	std::string o = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			o += '\\';
		o += c;
	}
	return o + "\"";
}

// What gnuplot plots of a value: seconds for durations (so that its
// "%c" prefixes read ns, µs, ms), the value otherwise.
double plotted(Unit u, double v)
{
	return u == Unit::NS ? v * 1e-9 : v;
}

const char *axis_format(Unit u)
{
	switch (u) {
	case Unit::NS:
		return "%.0s %cs";
	case Unit::RATE:
		return "%.0s%c";
	case Unit::X:
		return "%g×";
	default:
		return "%g";
	}
}

std::string num(double v)
{
	char b[64];
	std::snprintf(b, sizeof(b), "%.9g", v);
	return b;
}

// Which values are missing, and why, for the caption.
std::string gaps(const Chart &c)
{
	std::vector<std::string> g;
	for (const Series &s : c.series)
		for (size_t i = 0; i < s.v.size() && i < c.x.size(); i++)
			if (s.v[i].kind != Val::OK)
				g.push_back(s.name + " at " + c.x[i] + " (" +
					    val_text(s.v[i], c.unit) + ")");
	if (g.empty())
		return "";
	std::string o = "Not plotted: ";
	for (size_t i = 0; i < g.size(); i++)
		o += (i ? "; " : "") + g[i];
	return o + ".";
}

bool has_value(const Chart &c)
{
	for (const Series &s : c.series)
		if (!s.dashed || c.style == Chart::BARS)
			for (const Val &v : s.v)
				if (v.kind == Val::OK)
					return true;
	return false;
}

// The range of the plotted values on the left axis.
void range_of(const Chart &c, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (const Series &s : c.series)
		if (!s.y2)
			for (const Val &v : s.v)
				if (v.kind == Val::OK && v.v > 0) {
					double p = plotted(c.unit, v.v);
					*lo = std::min(*lo, p);
					*hi = std::max(*hi, p);
				}
	if (!std::isfinite(*lo))
		*lo = *hi = 1;
}

struct Size {
	int w, h;
};

Size size_of(const Chart &c)
{
	// Room for the key on the right (about 240 px) besides the plot.
	if (c.style == Chart::LINES)
		return { 840, 440 };
	size_t bars = c.x.size() * c.series.size();
	int w = static_cast<int>(
		std::clamp<size_t>(400 + bars * 48, 760, 1300));
	size_t longest = 0;
	for (const auto &x : c.x)
		longest = std::max(longest, width(x));
	return { w, 400 + static_cast<int>(longest > 10 ? longest * 5 : 0) };
}

// The data file: one line per category or x value, then per series the
// value (durations in ns, as the tables) and the text the tables print.
std::string data_file(const Chart &c)
{
	bool lines = c.style == Chart::LINES;
	std::string o =
		"# " + c.title + (lines ? "\n# x label" : "\n# index label");
	for (const Series &s : c.series)
		o += " " + q(s.name) + " " + q(s.name + " (text)");
	o += "\n";
	for (size_t i = 0; i < c.x.size(); i++) {
		o += (lines ? c.x[i] : std::to_string(i)) + " " + q(c.x[i]);
		for (const Series &s : c.series) {
			const Val &v = s.v[i];
			Unit u = s.y2 ? c.unit2 : c.unit;
			if (v.kind == Val::OK)
				o += " " + num(v.v) + " " + q(fmt_val(u, v.v));
			else
				o += " ? " + q(val_text(v, u));
		}
		o += "\n";
	}
	return o;
}

std::string script(const Chart &c, const Size &sz)
{
	std::string o = "# " + c.title +
			"\n# Generated by runstate_bench from " + c.id +
			".dat (docs/benchmarks.md); run: gnuplot " + c.id +
			".gp\n";
	o += "set terminal svg size " + std::to_string(sz.w) + "," +
	     std::to_string(sz.h) + " dynamic name " + q(c.id) +
	     " noenhanced font \"DejaVu Sans,12\" background "
	     "\"white\"\n";
	o += "set encoding utf8\nset micro\nset output " + q(c.id + ".svg") +
	     "\n";
	o += "set datafile missing \"?\"\n";
	o += "set title " + q(c.title) + " font \",14\"\n";
	o += "set xlabel " + q(c.xlabel) + "\nset ylabel " + q(c.ylabel) + "\n";
	// The key right of the plot, where it can cover nothing.
	o += "set key outside right top vertical Left reverse\n";
	o += "set grid ytics lc rgb \"#dddddd\"\n";
	o += "set border 3\nset ytics nomirror\nset xtics nomirror\n";
	o += "set format y " + q(axis_format(c.unit)) + "\n";
	for (size_t i = 0; i < c.series.size(); i++)
		o += "set linetype " + std::to_string(i + 1) + " lc rgb " +
		     q(kColours[i % (sizeof(kColours) / sizeof(*kColours))]) +
		     " lw 2 pt 7 ps 1.2" + (c.series[i].dashed ? " dt 2" : "") +
		     "\n";
	// Value labels over the bars: level where few, upright where more,
	// none where they would not fit (the tables have the numbers).
	size_t bars = c.x.size() * c.series.size();
	bool labels = c.style == Chart::BARS && bars <= 24,
	     upright = labels && bars > 8;
	double lo, hi;
	range_of(c, &lo, &hi);
	if (c.logy) {
		double head = upright ? 30 : 3;
		o += "set logscale y\n";
		o += "set yrange [" +
		     num(std::pow(10, std::floor(std::log10(lo)))) + ":" +
		     num(std::pow(10, std::ceil(std::log10(hi * head)))) +
		     "]\n";
	} else {
		o += "set yrange [0:" + num(hi * (upright ? 1.5 : 1.2)) + "]\n";
	}
	double f = c.unit == Unit::NS ? 1e-9 : 1;
	std::string scale = f == 1 ? "" : "*" + num(f);
	std::string plot;
	auto add = [&](const std::string &p) {
		plot += (plot.empty() ? "plot " : ", \\\n     ") + p;
	};
	if (c.style == Chart::BARS) {
		size_t n = c.series.size();
		double w = 0.8 / static_cast<double>(n);
		std::string tics;
		for (size_t i = 0; i < c.x.size(); i++)
			tics += (i ? ", " : "") + q(c.x[i]) + " " +
				std::to_string(i);
		o += "set xtics (" + tics + ")";
		size_t longest = 0;
		for (const auto &x : c.x)
			longest = std::max(longest, width(x));
		o += " scale 0";
		o += longest > 10 ? " rotate by 25 right\n" : "\n";
		o += "set xrange [-0.6:" + num(c.x.size() - 0.4) + "]\n";
		o += "set style fill solid 0.9 border lc rgb \"#333333\"\n";
		for (size_t s = 0; s < n; s++) {
			double off = (static_cast<double>(s) -
				      (static_cast<double>(n) - 1) / 2) *
				     w;
			std::string x = "($1+" + num(off) + ")";
			std::string y =
				"($" + std::to_string(3 + 2 * s) + scale + ")";
			add("\"" + c.id + ".dat\" using " + x + ":" + y + ":(" +
			    num(w * 0.92) + ") with boxes lt " +
			    std::to_string(s + 1) + " title " +
			    q(c.series[s].name));
			if (labels)
				add("\"\" using " + x + ":" + y + ":" +
				    std::to_string(4 + 2 * s) +
				    (upright ? " with labels rotate by 90 left "
					       "offset 0,0.5"
					     : " with labels offset 0,0.7") +
				    " font \",9\" notitle");
		}
	} else {
		o += "set logscale x 2\nset xtics (";
		for (size_t i = 0; i < c.x.size(); i++)
			o += (i ? ", " : "") + q(c.x[i]) + " " + c.x[i];
		o += ")\n";
		double xmax = std::atof(c.x.back().c_str());
		o += "set xrange [0.8:" + num(xmax * 1.25) + "]\n";
		if (std::isfinite(c.vline) && c.vline < xmax) {
			o += "set arrow from " + num(c.vline) +
			     ", graph 0 to " + num(c.vline) +
			     ", graph 1 nohead dt 3 lc rgb \"#666666\"\n";
			o += "set label " + q(c.vline_label) + " at " +
			     num(c.vline) +
			     ", graph 0.95 offset 0.5,0 left tc rgb "
			     "\"#444444\" font \",10\"\n";
		}
		if (!c.y2label.empty()) {
			o += "set y2label " + q(c.y2label) + "\n";
			o += "set y2tics\nset y2range [0:*]\nset border 11\n";
			o += "set format y2 " + q(axis_format(c.unit2)) + "\n";
		}
		for (size_t s = 0; s < c.series.size(); s++)
			add("\"" + c.id + ".dat\" using 1:($" +
			    std::to_string(3 + 2 * s) + scale + ") with " +
			    "linespoints lt " + std::to_string(s + 1) +
			    (c.series[s].y2 ? " axes x1y2" : "") + " title " +
			    q(c.series[s].name));
	}
	return o + plot + "\n";
}

// Runs gnuplot on dir/<id>.gp in dir; messages to <id>.log.
bool run_gnuplot(const std::string &dir, const std::string &id,
		 std::string *why)
{
	std::string log = dir + "/" + id + ".log";
	pid_t pid = fork();
	if (pid < 0) {
		*why = std::string("fork: ") + std::strerror(errno);
		return false;
	}
	if (pid == 0) {
		int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir(dir.c_str()) != 0)
			_exit(126);
		std::string gp = id + ".gp";
		execlp("gnuplot", "gnuplot", gp.c_str(), (char *)nullptr);
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		*why = "gnuplot not found (Debian: gnuplot-nox)";
		return false;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		*why = "gnuplot failed: see charts/" + id + ".log";
		return false;
	}
	std::error_code ec;
	if (std::filesystem::file_size(dir + "/" + id + ".svg", ec) == 0 ||
	    ec) {
		*why = "gnuplot wrote no SVG: see charts/" + id + ".log";
		return false;
	}
	return true;
}

bool write_file(const std::string &path, const std::string &s)
{
	std::ofstream f(path);
	f << s;
	f.close();
	return static_cast<bool>(f);
}

// The figure of a chart for the page, drawing it first.
std::string figure(const std::string &dir, const Chart &c)
{
	std::string o = "<figure id=\"chart-" + c.id + "\">\n";
	std::string why;
	Size sz = size_of(c);
	if (!has_value(c)) {
		why = "nothing to plot: no value was measured";
	} else if (!write_file(dir + "/" + c.id + ".dat", data_file(c)) ||
		   !write_file(dir + "/" + c.id + ".gp", script(c, sz))) {
		why = "cannot write charts/" + c.id + ".{dat,gp}";
	} else if (run_gnuplot(dir, c.id, &why)) {
		o += "<img src=\"charts/" + c.id + ".svg\" width=\"" +
		     std::to_string(sz.w) + "\" height=\"" +
		     std::to_string(sz.h) + "\" alt=\"" + esc(c.title) +
		     "\">\n";
		why.clear();
	}
	if (!why.empty()) {
		std::cerr << "runstate_bench: chart " << c.id << ": " << why
			  << "\n";
		o += "<p class=\"missing\">" + esc(c.title) + ": " + esc(why) +
		     "</p>\n";
	}
	std::string g = gaps(c);
	o += "<figcaption>" + esc(c.caption) + (g.empty() ? "" : " ") + esc(g) +
	     " <span class=\"src\">Data: <a href=\"charts/" + c.id +
	     ".dat\">charts/" + c.id + ".dat</a>, script: <a href=\"charts/" +
	     c.id + ".gp\">charts/" + c.id + ".gp</a>.</span></figcaption>\n";
	return o + "</figure>\n";
}

const char *const kStyle =
	"body{font-family:'DejaVu Sans',sans-serif;font-size:14px;"
	"line-height:1.45;color:#111;max-width:1360px;margin:1.5em auto;"
	"padding:0 1.5em}\n"
	"h1{font-size:1.7em}h2{margin-top:2em;padding-top:.4em;"
	"border-top:2px solid #ccc}\n"
	"div.table{overflow-x:auto;margin:.8em 0}\n"
	"table{border-collapse:collapse;font-size:12.5px}\n"
	"th,td{border:1px solid #bbb;padding:3px 7px;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#eef2f7}tr:nth-child(even) td{background:#fafafa}\n"
	"blockquote{margin:1em 0;padding:.6em 1em;background:#fff4d6;"
	"border-left:5px solid #e69f00}\n"
	"figure{margin:1.2em 0;padding:.6em;border:1px solid #ddd;"
	"background:#fff;max-width:100%;overflow-x:auto}\n"
	"figure img{display:block;max-width:100%;height:auto}\n"
	"figcaption{font-size:12.5px;color:#333;margin-top:.4em}\n"
	"span.src{color:#666}p.missing{color:#a00}\n"
	"nav ul{columns:2}\n"
	"code{font-family:'DejaVu Sans Mono',monospace;font-size:.95em}\n";

} // namespace

bool write_html_report(const std::string &dir, const std::string &envtxt,
		       const std::string &text,
		       const std::vector<Chart> &charts, std::string *err)
{
	std::string cdir = dir + "/charts";
	std::error_code ec;
	std::filesystem::create_directories(cdir, ec);
	if (ec) {
		*err = "cannot create " + cdir + ": " + ec.message();
		return false;
	}
	std::vector<bool> placed(charts.size());
	auto section = [&](const std::string &heading) {
		std::string o;
		for (size_t i = 0; i < charts.size(); i++)
			if (!placed[i] && !heading.empty() &&
			    heading.rfind(charts[i].section, 0) == 0) {
				o += figure(cdir, charts[i]);
				placed[i] = true;
			}
		return o;
	};
	std::string body = md_to_html(envtxt + "\n" + text, section);
	// A chart whose section is missing still appears, at the end.
	std::string rest;
	for (size_t i = 0; i < charts.size(); i++)
		if (!placed[i])
			rest += figure(cdir, charts[i]);
	if (!rest.empty())
		body += "<h2 id=\"more-charts\">More charts</h2>\n" + rest;

	std::string nav = "<nav><p>Charts (each under the report it "
			  "draws; data and gnuplot script beside it in "
			  "<code>charts/</code>):</p><ul>\n";
	for (const Chart &c : charts)
		nav += "<li><a href=\"#chart-" + c.id + "\">" + esc(c.title) +
		       "</a></li>\n";
	nav += "</ul></nav>\n";

	std::string page =
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
		"charset=\"utf-8\">\n<title>runstate benchmark "
		"report</title>\n<style>\n" +
		std::string(kStyle) +
		"</style>\n</head>\n<body>\n<h1>runstate benchmark "
		"report</h1>\n<p>The tables are report.md's; the charts draw "
		"the same numbers, read from the same results.json.</p>\n" +
		nav + body + "</body>\n</html>\n";
	std::string path = dir + "/report.html";
	if (!write_file(path, page)) {
		*err = "cannot write " + path;
		return false;
	}
	return true;
}
