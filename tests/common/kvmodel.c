/* SPDX-License-Identifier: MIT */
#include "common/kvmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test code: running out of memory ends the test binary. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("kvmodel: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

static unsigned char *dup_bytes(const void *p, size_t n)
{
	unsigned char *d = xmalloc(n);

	if (n)
		memcpy(d, p, n);
	return d;
}

void rs_m_init(rs_model *m)
{
	m->e = NULL;
	m->n = m->cap = 0;
}

void rs_m_clear(rs_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].k);
		free(m->e[i].v);
	}
	m->n = 0;
}

void rs_m_free(rs_model *m)
{
	rs_m_clear(m);
	free(m->e);
	rs_m_init(m);
}

void rs_m_copy(rs_model *dst, const rs_model *src)
{
	rs_m_init(dst);
	for (size_t i = 0; i < src->n; i++)
		rs_m_append(dst, src->e[i].k, src->e[i].klen, src->e[i].v,
			    src->e[i].vlen);
}

int rs_m_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

size_t rs_m_lower(const rs_model *m, const void *key, size_t klen, bool strict)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rs_m_cmp(m->e[mid].k, m->e[mid].klen, key, klen);

		if (c < 0 || (c == 0 && strict))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long rs_m_find(const rs_model *m, const void *key, size_t klen)
{
	size_t i = rs_m_lower(m, key, klen, false);

	if (i < m->n && rs_m_cmp(m->e[i].k, m->e[i].klen, key, klen) == 0)
		return (long)i;
	return -1;
}

static void reserve(rs_model *m)
{
	if (m->n < m->cap)
		return;
	m->cap = m->cap ? m->cap * 2 : 16;
	m->e = realloc(m->e, m->cap * sizeof(*m->e));
	if (!m->e) {
		fputs("kvmodel: out of memory\n", stderr);
		exit(2);
	}
}

static void insert_at(rs_model *m, size_t i, const void *key, size_t klen,
		      const void *val, size_t vlen)
{
	reserve(m);
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
	m->e[i].k = dup_bytes(key, klen);
	m->e[i].klen = klen;
	m->e[i].v = dup_bytes(val, vlen);
	m->e[i].vlen = vlen;
	m->n++;
}

void rs_m_put(rs_model *m, const void *key, size_t klen, const void *val,
	      size_t vlen)
{
	size_t i = rs_m_lower(m, key, klen, false);

	if (i < m->n && rs_m_cmp(m->e[i].k, m->e[i].klen, key, klen) == 0) {
		free(m->e[i].v);
		m->e[i].v = dup_bytes(val, vlen);
		m->e[i].vlen = vlen;
		return;
	}
	insert_at(m, i, key, klen, val, vlen);
}

bool rs_m_del(rs_model *m, const void *key, size_t klen)
{
	long i = rs_m_find(m, key, klen);

	if (i < 0)
		return false;
	free(m->e[i].k);
	free(m->e[i].v);
	memmove(&m->e[i], &m->e[i + 1], (m->n - (size_t)i - 1) * sizeof(*m->e));
	m->n--;
	return true;
}

void rs_m_append(rs_model *m, const void *key, size_t klen, const void *val,
		 size_t vlen)
{
	insert_at(m, m->n, key, klen, val, vlen);
}

int rs_m_collect_cb(rs_bytes key, rs_bytes value, void *ctx)
{
	rs_m_append(ctx, key.data, key.len, value.data, value.len);
	return 0;
}

bool rs_m_has_prefix(const rs_m_ent *e, const void *prefix, size_t plen)
{
	return e->klen >= plen && (!plen || memcmp(e->k, prefix, plen) == 0);
}

/* ---- expected answers ---- */

static bool in_scan(const rs_m_scan *sc, const rs_m_ent *e)
{
	if (sc->start && rs_m_cmp(e->k, e->klen, sc->start, sc->start_len) < 0)
		return false;
	if (sc->end && rs_m_cmp(e->k, e->klen, sc->end, sc->end_len) >= 0)
		return false;
	if (sc->resume) {
		int c = rs_m_cmp(e->k, e->klen, sc->resume, sc->resume_len);

		if (sc->reverse ? c >= 0 : c <= 0)
			return false;
	}
	return true;
}

void rs_m_scan_options(const rs_m_scan *sc, rs_scan_options *o)
{
	const rs_scan_options init = RS_SCAN_OPTIONS_INIT;

	*o = init;
	o->flags = sc->reverse ? RS_SCAN_REVERSE : 0;
	o->start = sc->start;
	o->start_len = sc->start_len;
	o->end = sc->end;
	o->end_len = sc->end_len;
	o->resume = sc->resume;
	o->resume_len = sc->resume_len;
	o->limit = sc->limit;
}

void rs_m_expect_scan(const rs_model *m, const rs_m_scan *sc, rs_model *out,
		      bool *more)
{
	size_t got = 0;

	*more = false;
	for (size_t j = 0; j < m->n; j++) {
		const rs_m_ent *e = &m->e[sc->reverse ? m->n - 1 - j : j];

		if (!in_scan(sc, e))
			continue;
		if (sc->limit && got == sc->limit) {
			*more = true;
			return;
		}
		rs_m_append(out, e->k, e->klen, e->v, e->vlen);
		got++;
	}
}

void rs_m_expect_list(const rs_model *m, const void *prefix, size_t plen,
		      const void *after, size_t alen, size_t limit,
		      rs_model *out, bool *more)
{
	size_t got = 0;

	*more = false;
	for (size_t i = 0; i < m->n; i++) {
		const rs_m_ent *e = &m->e[i];

		if (!rs_m_has_prefix(e, prefix, plen) ||
		    (after && rs_m_cmp(e->k, e->klen, after, alen) <= 0))
			continue;
		if (limit && got == limit) {
			*more = true;
			return;
		}
		rs_m_append(out, e->k, e->klen, e->v, e->vlen);
		got++;
	}
}

const char *rs_m_show(const void *p, size_t len, char *buf, size_t cap)
{
	const unsigned char *b = p;
	size_t o = 0;

	if (!p) {
		snprintf(buf, cap, "(null)");
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < len && o + 8 < cap; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			buf[o++] = (char)b[i];
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x",
					      b[i]);
		if (i == 24 && len > 32) {
			o += (size_t)snprintf(buf + o, cap - o, "...(%zu B)",
					      len);
			break;
		}
	}
	buf[o < cap ? o : cap - 1] = '\0';
	return buf;
}

bool rs_m_same(const rs_model *got, const rs_model *want, char *why, size_t cap)
{
	char a[160], b[160], c[160];
	size_t n = got->n < want->n ? got->n : want->n;

	for (size_t i = 0; i < n; i++) {
		const rs_m_ent *g = &got->e[i], *w = &want->e[i];

		if (rs_m_cmp(g->k, g->klen, w->k, w->klen) != 0) {
			snprintf(why, cap, "entry %zu: key %s, expected %s", i,
				 rs_m_show(g->k, g->klen, a, sizeof(a)),
				 rs_m_show(w->k, w->klen, b, sizeof(b)));
			return false;
		}
		if (rs_m_cmp(g->v, g->vlen, w->v, w->vlen) != 0) {
			snprintf(why, cap,
				 "entry %zu (key %s): value %s, expected %s", i,
				 rs_m_show(g->k, g->klen, a, sizeof(a)),
				 rs_m_show(g->v, g->vlen, b, sizeof(b)),
				 rs_m_show(w->v, w->vlen, c, sizeof(c)));
			return false;
		}
	}
	if (got->n != want->n) {
		const rs_m_ent *x = got->n > n ? &got->e[n] : &want->e[n];

		snprintf(why, cap, "%zu entries, expected %zu (first %s: %s)",
			 got->n, want->n, got->n > n ? "extra" : "missing",
			 rs_m_show(x->k, x->klen, a, sizeof(a)));
		return false;
	}
	return true;
}

/* ---- cursor model ---- */

static bool cur_in(const rs_m_cur *c, const rs_m_ent *e)
{
	return rs_m_has_prefix(e, c->pfx, c->plen);
}

static int cur_land(rs_m_cur *c, const rs_model *m, size_t i, size_t *at)
{
	if (i >= m->n || !cur_in(c, &m->e[i])) {
		c->on = false;
		return RS_ENOTFOUND;
	}
	c->on = true;
	memcpy(c->key, m->e[i].k, m->e[i].klen);
	c->klen = m->e[i].klen;
	*at = i;
	return 0;
}

/* The first index at or after key (le: the last at or before it);
 * m->n when there is none. */
static size_t near_index(const rs_model *m, const void *key, size_t klen,
			 bool le, bool strict)
{
	size_t i = rs_m_lower(m, key, klen, le ? !strict : strict);

	if (!le)
		return i;
	return i == 0 ? m->n : i - 1;
}

int rs_m_cur_seek(rs_m_cur *c, const rs_model *m, const void *key, size_t klen,
		  bool le, size_t *at)
{
	c->plen = 0;
	return cur_land(c, m, near_index(m, key, klen, le, false), at);
}

static int cur_end(rs_m_cur *c, const rs_model *m, bool last, size_t *at)
{
	size_t i = rs_m_lower(m, c->pfx, c->plen, false);

	if (last) {
		size_t j = i;

		while (j < m->n && cur_in(c, &m->e[j]))
			j++;
		i = j == i ? m->n : j - 1;
	}
	return cur_land(c, m, i, at);
}

int rs_m_cur_in(rs_m_cur *c, const rs_model *m, const void *prefix, size_t plen,
		bool last, size_t *at)
{
	if (plen)
		memcpy(c->pfx, prefix, plen);
	c->plen = plen;
	return cur_end(c, m, last, at);
}

int rs_m_cur_step(rs_m_cur *c, const rs_model *m, int dir, size_t *at)
{
	if (!c->on)
		return cur_end(c, m, dir < 0, at);
	return cur_land(c, m, near_index(m, c->key, c->klen, dir < 0, true),
			at);
}
