// SPDX-License-Identifier: MIT
//
// runstate for Node.js: the N-API layer (node-addon-api). index.js is
// the public JavaScript API over it; this file only converts arguments and
// results and enforces the rules the C header leaves to the caller:
//
//  - Thread ownership. Every transaction begins, runs and commits on the
//    JavaScript thread, inside one synchronous stretch of JavaScript (see
//    Db.transaction in index.js): no C transaction is ever open across
//    an await, and each is committed by the thread that began it, as
//    rs_txn_commit() requires.
//  - No fdatasync on the JavaScript thread. Commits made here are made in
//    Buffered mode (rs_txn_set_durability()); a Strict commit is then made
//    durable by rs_db_flush() on the libuv pool (flushAsync) before its
//    promise settles. RunIndex writes have no transaction form, so on a
//    Strict database they run whole on the pool (the *Async variants).
//    open, close, flush and checkpoint of a durable database run on the
//    pool too.
//  - Views. Every borrowed view (rs_bytes, rs_event, rs_trace, rs_run_info)
//    is copied into a fresh Buffer or string before the C call returns;
//    nothing handed to JavaScript points into library memory.
//  - Stale handles. A transaction handle is a generation number checked on
//    every call, a closed database or cursor answers RS_EINVAL: what the C
//    API leaves undefined is an error here.
#include <napi.h>

#include <runstate.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace
{

Napi::FunctionReference *g_error_ctor = nullptr;

constexpr uint64_t kMaxSafe = 9007199254740991ull; // 2^53 - 1

// ---- errors ----

Napi::Error MakeError(Napi::Env env, int rc, const std::string &detail)
{
	std::string msg = rs_strerror(rc);
	if (!detail.empty())
		msg += ": " + detail;
	if (g_error_ctor != nullptr) {
		Napi::Value e = g_error_ctor->New(
			{ Napi::String::New(env, msg),
			  Napi::String::New(env, rs_errname(rc)),
			  Napi::Number::New(env, rc) });
		return Napi::Error(env, e);
	}
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", Napi::String::New(env, rs_errname(rc)));
	e.Set("errno", Napi::Number::New(env, rc));
	return e;
}

[[noreturn]] void Throw(Napi::Env env, int rc, const std::string &detail = "")
{
	throw MakeError(env, rc, detail);
}

void Check(Napi::Env env, int rc, const char *what)
{
	if (rc < 0)
		Throw(env, rc, what);
}

// ---- argument conversion ----

// Bytes from a string (UTF-8, copied) or any ArrayBuffer view (a view of
// the caller's memory, valid during this synchronous call). A string of up
// to kInline - 5 UTF-8 bytes (most keys) is copied into the object itself:
// one N-API call and no allocation; a longer one into tmp.
struct Bytes {
	static constexpr size_t kInline = 128;
	enum Where : uint8_t {
		kView,
		kTmp,
		kInl
	};

	const void *data = nullptr;
	size_t len = 0;
	bool present = false;
	Where where = kView;
	std::string tmp;
	char inl[kInline];

	Bytes() = default;
	Bytes(const Bytes &o)
	{
		*this = o;
	}
	Bytes(Bytes &&o) noexcept
	{
		*this = std::move(o);
	}
	Bytes &operator=(const Bytes &o)
	{
		Assign(o);
		tmp = o.tmp;
		Fix();
		return *this;
	}
	Bytes &operator=(Bytes &&o) noexcept
	{
		Assign(o);
		tmp = std::move(o.tmp);
		Fix();
		return *this;
	}

      private:
	void Assign(const Bytes &o)
	{
		data = o.data;
		len = o.len;
		present = o.present;
		where = o.where;
		if (where == kInl)
			memcpy(inl, o.inl, len);
	}
	void Fix()
	{
		if (where == kTmp)
			data = tmp.data();
		else if (where == kInl)
			data = inl;
	}
};

bool IsNullish(const Napi::Value &v)
{
	return v.IsUndefined() || v.IsNull();
}

size_t ElementSize(napi_typedarray_type t)
{
	switch (t) {
	case napi_int16_array:
	case napi_uint16_array:
		return 2;
	case napi_int32_array:
	case napi_uint32_array:
	case napi_float32_array:
		return 4;
	case napi_float64_array:
	case napi_bigint64_array:
	case napi_biguint64_array:
		return 8;
	default:
		return 1;
	}
}

Bytes GetBytes(const Napi::Value &v, const char *what, bool optional = false)
{
	Bytes b;
	Napi::Env env = v.Env();
	if (IsNullish(v)) {
		if (!optional)
			Throw(env, RS_EINVAL,
			      std::string(what) + " is required");
		return b;
	}
	b.present = true;
	if (v.IsString()) {
		// napi_get_value_string_utf8 writes whole characters only, so
		// a result at least 4 bytes short of the room is the whole
		// string; a longer one is read again, at its length.
		size_t n = 0;
		if (napi_get_value_string_utf8(env, v, b.inl, sizeof b.inl,
					       &n) != napi_ok)
			throw Napi::Error::New(env);
		if (n < sizeof b.inl - 4) {
			b.where = Bytes::kInl;
			b.data = b.inl;
			b.len = n;
		} else {
			b.tmp = v.As<Napi::String>().Utf8Value();
			b.where = Bytes::kTmp;
			b.data = b.tmp.data();
			b.len = b.tmp.size();
		}
	} else if (v.IsTypedArray()) {
		// One call for the view's bytes (its data pointer is already
		// at its offset).
		napi_typedarray_type type;
		size_t n = 0;
		void *data = nullptr;
		if (napi_get_typedarray_info(env, v, &type, &n, &data, nullptr,
					     nullptr) != napi_ok)
			throw Napi::Error::New(env);
		b.data = data;
		b.len = n * ElementSize(type);
	} else if (v.IsDataView()) {
		Napi::DataView dv = v.As<Napi::DataView>();
		b.data = static_cast<const uint8_t *>(dv.ArrayBuffer().Data()) +
			 dv.ByteOffset();
		b.len = dv.ByteLength();
	} else if (v.IsArrayBuffer()) {
		Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
		b.data = ab.Data();
		b.len = ab.ByteLength();
	} else {
		Throw(env, RS_EINVAL,
		      std::string(what) +
			      " must be a string, a Buffer or a Uint8Array");
	}
	// A zero-length view may have a NULL data pointer: the C API reads
	// a NULL key as absent, so point empty inputs at a static byte.
	if (b.data == nullptr) {
		static const char empty = 0;
		b.data = &empty;
	}
	return b;
}

// A kv.write value: bytes as GetBytes takes them, or an array of such
// parts (strings and views), stored as their concatenation (so that a
// record made of a header and serialized parts needs no buffer built in
// JavaScript first). The parts are copied into *into (a buffer the
// caller keeps for the call: no allocation once it is large enough), or
// without one into tmp. The buffer's size is only its room, grown and
// never shrunk here: the value is its first b.len bytes. (A resize() to
// each part's worst case zero-filled 3 bytes a UTF-16 unit on every call:
// 6,600 of the 47,600 instructions of a saver's 2 KiB kv.write.)
Bytes GetValue(const Napi::Value &v, const char *what,
	       std::string *into = nullptr)
{
	if (!v.IsArray())
		return GetBytes(v, what);
	Napi::Array a = v.As<Napi::Array>();
	uint32_t n = a.Length();
	Bytes b;
	b.present = true;
	b.where = into == nullptr ? Bytes::kTmp : Bytes::kView;
	std::string &out = into == nullptr ? b.tmp : *into;
	size_t len = 0;
	auto room = [&out, &len](size_t need) {
		if (out.size() - len < need)
			out.resize(std::max(len + need, 2 * out.size()));
		return &out[len];
	};
	for (uint32_t i = 0; i < n; i++) {
		Napi::Value e = a.Get(i);
		if (e.IsArray() || IsNullish(e))
			Throw(v.Env(), RS_EINVAL,
			      std::string(what) +
				      "'s parts must be strings, Buffers or "
				      "Uint8Arrays");
		if (e.IsString()) {
			// Written straight into the buffer, in one pass: room
			// for 3 UTF-8 bytes per UTF-16 unit (and the NUL N-API
			// adds).
			size_t units = 0, got = 0;
			if (napi_get_value_string_utf16(v.Env(), e, nullptr, 0,
							&units) != napi_ok)
				throw Napi::Error::New(v.Env());
			if (napi_get_value_string_utf8(
				    v.Env(), e, room(3 * units + 1),
				    3 * units + 1, &got) != napi_ok)
				throw Napi::Error::New(v.Env());
			len += got;
			continue;
		}
		Bytes p = GetBytes(e, "a value's part");
		memcpy(room(p.len), p.data, p.len);
		len += p.len;
	}
	if (into == nullptr)
		out.resize(len);
	b.data = out.data();
	b.len = len;
	return b;
}

std::string GetText(const Napi::Value &v, const char *what)
{
	if (!v.IsString())
		Throw(v.Env(), RS_EINVAL,
		      std::string(what) + " must be a string");
	return v.As<Napi::String>().Utf8Value();
}

rs_run_id GetRun(const Napi::Value &v, const char *what = "run id")
{
	if (!v.IsString())
		Throw(v.Env(), RS_EINVAL,
		      std::string(what) + " must be a UUID string");
	// A run id is 36 characters: read it into the stack (a longer
	// string is cut, and then fails to parse).
	char buf[RS_RUN_ID_STRLEN + 2];
	size_t n = 0;
	napi_status st =
		napi_get_value_string_utf8(v.Env(), v, buf, sizeof buf, &n);
	if (st != napi_ok)
		throw Napi::Error::New(v.Env());
	rs_run_id id;
	int rc = rs_run_id_parse(&id, buf, n);
	if (rc < 0)
		Throw(v.Env(), rc,
		      std::string(what) + " is not a UUID: '" +
			      v.As<Napi::String>().Utf8Value() + "'");
	return id;
}

Napi::String RunString(Napi::Env env, const rs_run_id &id)
{
	char buf[RS_RUN_ID_STRLEN + 1];
	rs_run_id_format(&id, buf, sizeof buf);
	return Napi::String::New(env, buf, RS_RUN_ID_STRLEN);
}

uint64_t GetU64(const Napi::Value &v, const char *what)
{
	Napi::Env env = v.Env();
	if (v.IsBigInt()) {
		bool lossless = false;
		uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
		if (!lossless)
			Throw(env, RS_ERANGE,
			      std::string(what) +
				      " is not a 64-bit unsigned integer");
		return x;
	}
	if (!v.IsNumber())
		Throw(env, RS_EINVAL, std::string(what) + " must be a number");
	double d = v.As<Napi::Number>().DoubleValue();
	if (!(d >= 0) || d > static_cast<double>(kMaxSafe) ||
	    d != static_cast<double>(static_cast<uint64_t>(d)))
		Throw(env, RS_EINVAL,
		      std::string(what) + " must be a non-negative integer");
	return static_cast<uint64_t>(d);
}

// An upper bound of a range: Infinity (or undefined) means UINT64_MAX.
uint64_t GetBound(const Napi::Value &v, const char *what)
{
	if (IsNullish(v))
		return UINT64_MAX;
	if (v.IsNumber() && v.As<Napi::Number>().DoubleValue() ==
				    std::numeric_limits<double>::infinity())
		return UINT64_MAX;
	return GetU64(v, what);
}

size_t GetLimit(const Napi::Value &v)
{
	if (IsNullish(v))
		return 0;
	return static_cast<size_t>(GetU64(v, "limit"));
}

Napi::Value U64(Napi::Env env, uint64_t x)
{
	if (x > kMaxSafe)
		Throw(env, RS_ERANGE,
		      "a 64-bit value above Number.MAX_SAFE_INTEGER");
	return Napi::Number::New(env, static_cast<double>(x));
}

Napi::Value Big(Napi::Env env, uint64_t x)
{
	return Napi::BigInt::New(env, x);
}

Napi::Value Out(Napi::Env env, const void *p, size_t n, bool as_string)
{
	if (as_string)
		return Napi::String::New(env, static_cast<const char *>(p), n);
	return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t *>(p),
					   n);
}

Napi::Value Out(Napi::Env env, rs_bytes b, bool as_string)
{
	return Out(env, b.data, b.len, as_string);
}

// KV keys and values: a string, or the bytes as an ArrayBuffer that
// index.js wraps in a Buffer (a Buffer made in C++ costs several
// times an ArrayBuffer: node sets its prototype after making it).
Napi::Value OutKv(Napi::Env env, const void *p, size_t n, bool as_string)
{
	if (as_string)
		return Napi::String::New(env, static_cast<const char *>(p), n);
	Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n);
	if (n > 0)
		memcpy(ab.Data(), p, n);
	return ab;
}

Napi::Value OutKv(Napi::Env env, rs_bytes b, bool as_string)
{
	return OutKv(env, b.data, b.len, as_string);
}

bool GetBool(const Napi::Value &v)
{
	return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : v.ToBoolean();
}

// ---- collected results (C callbacks only copy; JS values are built
// after the C call has returned) ----

struct CellItem {
	std::string name, val;
	uint64_t version;
};

struct EventItem {
	uint64_t seq, ts;
	std::string type, payload;
	uint8_t prev[RS_HASH_LEN], hash[RS_HASH_LEN];
	uint32_t flags;
};

struct TraceItem {
	uint64_t id, parent, ts;
	std::string type, payload;
	std::vector<std::string> tags;
	uint32_t flags;
	unsigned depth;
};

struct RunItem {
	rs_run_id id, parent;
	bool has_parent;
	rs_run_status status;
	uint64_t created, updated;
	bool named;
	std::string name, metadata;
	std::vector<std::string> tags;
};

template <typename T> struct Collect {
	std::vector<T> items;
	size_t limit = 0; // 0: all
};

std::string S(rs_bytes b)
{
	return std::string(static_cast<const char *>(b.data ? b.data : ""),
			   b.len);
}

// KV items, copied into one arena: parts are (offset, length) of a key,
// its value, the next key...
struct KvCollect {
	std::string arena;
	std::vector<std::pair<size_t, size_t>> parts;
	// KvPacked's: the lengths it writes, and its string's bytes.
	std::vector<uint32_t> lens;
	std::string text;

	// Empty, keeping the buffers of a page of up to 1 MiB (a Db reuses
	// one KvCollect for every page: no allocation per call).
	void Clear()
	{
		constexpr size_t kKeep = size_t(1) << 20;
		if (arena.capacity() > kKeep || text.capacity() > kKeep ||
		    parts.capacity() > kKeep / 16) {
			KvCollect empty;
			std::swap(*this, empty);
			return;
		}
		arena.clear();
		parts.clear();
		lens.clear();
		text.clear();
	}

	void Add(rs_bytes b)
	{
		parts.emplace_back(arena.size(), b.len);
		if (b.len > 0)
			arena.append(static_cast<const char *>(b.data), b.len);
	}
};

int KvCb(rs_bytes key, rs_bytes val, void *ctx)
{
	auto *c = static_cast<KvCollect *>(ctx);
	try {
		c->Add(key);
		c->Add(val);
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

int CellCb(rs_bytes name, rs_bytes val, uint64_t version, void *ctx)
{
	auto *c = static_cast<Collect<CellItem> *>(ctx);
	try {
		c->items.push_back({ S(name), S(val), version });
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

EventItem ToEvent(const rs_event *ev)
{
	EventItem e;
	e.seq = ev->seq;
	e.ts = ev->timestamp_ns;
	e.type = S(ev->type);
	e.payload = S(ev->payload);
	memcpy(e.prev, ev->prev_hash, RS_HASH_LEN);
	memcpy(e.hash, ev->hash, RS_HASH_LEN);
	e.flags = ev->flags;
	return e;
}

int EventCb(const rs_event *ev, void *ctx)
{
	auto *c = static_cast<Collect<EventItem> *>(ctx);
	if (c->limit != 0 && c->items.size() >= c->limit)
		return 1; // stop: a positive return is passed back unchanged
	try {
		c->items.push_back(ToEvent(ev));
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

TraceItem ToTrace(const rs_trace *t, unsigned depth)
{
	TraceItem r;
	r.id = t->id;
	r.parent = t->parent;
	r.ts = t->timestamp_ns;
	r.type = S(t->type);
	r.payload = S(t->payload);
	r.flags = t->flags;
	r.depth = depth;
	for (size_t i = 0; i < t->ntags; i++) {
		rs_bytes tag;
		if (rs_trace_tag(t, i, &tag) == 0)
			r.tags.push_back(S(tag));
	}
	return r;
}

int TraceCb(const rs_trace *t, void *ctx)
{
	auto *c = static_cast<Collect<TraceItem> *>(ctx);
	try {
		c->items.push_back(ToTrace(t, 0));
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

int TreeCb(const rs_trace *t, unsigned depth, void *ctx)
{
	auto *c = static_cast<Collect<TraceItem> *>(ctx);
	try {
		c->items.push_back(ToTrace(t, depth));
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

RunItem ToRun(const rs_run_info *info)
{
	RunItem r;
	r.id = info->id;
	r.parent = info->parent;
	r.has_parent = info->has_parent;
	r.status = info->status;
	r.created = info->created_ns;
	r.updated = info->updated_ns;
	r.named = info->name.data != nullptr;
	r.name = S(info->name);
	r.metadata = S(info->metadata);
	for (size_t i = 0; i < info->ntags; i++) {
		rs_bytes tag;
		if (rs_run_info_tag(info, i, &tag) == 0)
			r.tags.push_back(S(tag));
	}
	return r;
}

int RunCb(const rs_run_info *info, void *ctx)
{
	auto *c = static_cast<Collect<RunItem> *>(ctx);
	try {
		c->items.push_back(ToRun(info));
	} catch (...) {
		return RS_ENOMEM;
	}
	return 0;
}

// ---- result objects ----

// A page of KV items, flat: [key, value, key, value, ..., more];
// index.js makes the {items: [{key, value}], more} object (JavaScript
// builds objects far faster than N-API sets their properties).
// A KV page as [key, value, ..., bytes, more]: a key or value wanted as a
// string is that string; one wanted as bytes is its length, its bytes the
// next ones of `bytes`, one ArrayBuffer for the whole page (one allocation
// instead of one per key and value), which index.js cuts into Buffers.
Napi::Array KvFlat(Napi::Env env, const KvCollect &c, bool more, bool kstr,
		   bool vstr)
{
	size_t n = c.parts.size();
	Napi::Array a = Napi::Array::New(env, n + 2);
	const char *base = c.arena.data();
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (!(i % 2 == 0 ? kstr : vstr))
			total += c.parts[i].second;
	Napi::ArrayBuffer bytes = Napi::ArrayBuffer::New(env, total);
	uint8_t *out = static_cast<uint8_t *>(bytes.Data());
	for (size_t i = 0; i < n; i++) {
		const char *p = base + c.parts[i].first;
		size_t len = c.parts[i].second;
		if (i % 2 == 0 ? kstr : vstr) {
			a.Set(i, Napi::String::New(env, p, len));
			continue;
		}
		if (len > 0)
			memcpy(out, p, len);
		out += len;
		a.Set(i, Napi::Number::New(env, static_cast<double>(len)));
	}
	a.Set(n, bytes);
	a.Set(n + 1, Napi::Boolean::New(env, more));
	return a;
}

// The UTF-16 length of the string that n bytes of well-formed UTF-8 make,
// or -1 where they are not well formed (an overlong form, a surrogate, a
// code point above U+10FFFF, a cut or stray continuation byte: V8 would
// replace those, and the replacement's length is its own).
ptrdiff_t Utf16Length(const unsigned char *p, size_t n)
{
	size_t i = 0, u = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c < 0x80) {
			i++;
			u++;
			continue;
		}
		size_t k;		       // continuation bytes
		unsigned lo = 0x80, hi = 0xBF; // range of the first of them
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return -1;
		}
		if (n - i <= k || p[i + 1] < lo || p[i + 1] > hi)
			return -1;
		for (size_t j = 2; j <= k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return -1;
		i += k + 1;
		u += k == 3 ? 2 : 1;
	}
	return static_cast<ptrdiff_t>(u);
}

// Whether n bytes are all ASCII (then they are well-formed UTF-8 and
// their UTF-16 length is n), eight at a time.
bool IsAscii(const unsigned char *p, size_t n)
{
	uint64_t acc = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return (acc & 0x8080808080808080ull) == 0;
}

// A KV page packed into one ArrayBuffer, and one string if any key or
// value is wanted as a string: bytes [u32 n, u32 more, u32 len x 2n, the
// bytes of the keys and values wanted as bytes, in order] (host byte
// order); len is a byte length, or for a key or value wanted as a string,
// its length in the string (UTF-16 units), the string holding them all
// in order. Returns the ArrayBuffer alone when nothing is a string, else
// [ArrayBuffer, string]: two or three JavaScript values per page instead
// of one or two per key and value (KvFlat), which index.js cuts into
// strings (slices) and Buffers. A key or value wanted as a string that is
// not well-formed UTF-8 makes the page KvFlat's instead (V8 replaces the
// bad bytes; their length in the string is V8's to say).
Napi::Value KvPacked(Napi::Env env, KvCollect &c, bool more, bool kstr,
		     bool vstr)
{
	size_t n = c.parts.size();
	const unsigned char *base =
		reinterpret_cast<const unsigned char *>(c.arena.data());
	std::vector<uint32_t> &lens = c.lens;
	lens.resize(n);
	// A page all ASCII (JSON texts, most keys) is checked at once, and
	// its string made from its bytes as they are (Latin-1: no decoding).
	bool ascii = (kstr || vstr) && IsAscii(base, c.arena.size());
	size_t bin = 0, txt = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = c.parts[i].second;
		if (len > UINT32_MAX)
			return KvFlat(env, c, more, kstr, vstr);
		if (i % 2 == 0 ? kstr : vstr) {
			ptrdiff_t u =
				ascii ? static_cast<ptrdiff_t>(len)
				      : Utf16Length(base + c.parts[i].first,
						    len);
			if (u < 0)
				return KvFlat(env, c, more, kstr, vstr);
			lens[i] = static_cast<uint32_t>(u);
			txt += len;
		} else {
			lens[i] = static_cast<uint32_t>(len);
			bin += len;
		}
	}
	size_t head = 4 * (2 + n);
	Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, head + bin);
	uint8_t *out = static_cast<uint8_t *>(ab.Data());
	uint32_t h[2] = { static_cast<uint32_t>(n / 2), more ? 1u : 0u };
	memcpy(out, h, sizeof h);
	if (n > 0)
		memcpy(out + sizeof h, lens.data(), 4 * n);
	out += head;
	// Keys and values all wanted as strings: the string is the arena
	// itself (the parts in order), not a copy.
	bool all = kstr && vstr;
	std::string &text = c.text;
	if (!all)
		text.reserve(txt);
	for (size_t i = 0; i < n; i++) {
		const char *p = c.arena.data() + c.parts[i].first;
		size_t len = c.parts[i].second;
		if (len == 0)
			continue;
		if (i % 2 == 0 ? kstr : vstr) {
			if (!all)
				text.append(p, len);
		} else {
			memcpy(out, p, len);
			out += len;
		}
	}
	if (!kstr && !vstr)
		return ab;
	const std::string &src = all ? c.arena : text;
	napi_value str;
	if ((ascii ? napi_create_string_latin1(env, src.data(), src.size(),
					       &str)
		   : napi_create_string_utf8(env, src.data(), src.size(),
					     &str)) != napi_ok)
		throw Napi::Error::New(env);
	Napi::Array a = Napi::Array::New(env, 2);
	a.Set(0u, ab);
	a.Set(1u, Napi::Value(env, str));
	return a;
}

Napi::Object JsCell(Napi::Env env, const CellItem &it, bool vstr)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("name", Napi::String::New(env, it.name));
	o.Set("value", Out(env, it.val.data(), it.val.size(), vstr));
	o.Set("version", U64(env, it.version));
	return o;
}

Napi::Object JsEvent(Napi::Env env, const EventItem &e, bool vstr)
{
	Napi::Object o = Napi::Object::New(env);
	bool pending = (e.flags & RS_EVENT_F_PENDING) != 0;
	o.Set("seq", U64(env, e.seq));
	o.Set("type", Napi::String::New(env, e.type));
	o.Set("payload", Out(env, e.payload.data(), e.payload.size(), vstr));
	o.Set("timestampNs", Big(env, e.ts));
	o.Set("prevHash",
	      Napi::Buffer<uint8_t>::Copy(env, e.prev, RS_HASH_LEN));
	o.Set("hash", Napi::Buffer<uint8_t>::Copy(env, e.hash, RS_HASH_LEN));
	o.Set("pending", Napi::Boolean::New(env, pending));
	return o;
}

Napi::Value TraceId(Napi::Env env, uint64_t id)
{
	if (id == RS_TRACE_NONE)
		return env.Null();
	if ((id & RS_TRACE_PENDING) != 0)
		return Big(env, id); // a pending handle: a BigInt
	return U64(env, id);
}

Napi::Object JsTrace(Napi::Env env, const TraceItem &t, bool vstr, bool depth)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", TraceId(env, t.id));
	o.Set("parent", TraceId(env, t.parent));
	o.Set("type", Napi::String::New(env, t.type));
	o.Set("payload", Out(env, t.payload.data(), t.payload.size(), vstr));
	o.Set("timestampNs", Big(env, t.ts));
	Napi::Array tags = Napi::Array::New(env, t.tags.size());
	for (size_t i = 0; i < t.tags.size(); i++)
		tags.Set(i, Napi::String::New(env, t.tags[i]));
	o.Set("tags", tags);
	o.Set("pending",
	      Napi::Boolean::New(env, (t.flags & RS_TRACE_F_PENDING) != 0));
	if (depth)
		o.Set("depth", Napi::Number::New(env, t.depth));
	return o;
}

Napi::Object JsRun(Napi::Env env, const RunItem &r, bool mstr)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", RunString(env, r.id));
	o.Set("status", Napi::String::New(env, rs_run_status_name(r.status)));
	o.Set("parent", r.has_parent ? Napi::Value(RunString(env, r.parent))
				     : env.Null());
	o.Set("name", r.named ? Napi::Value(Napi::String::New(env, r.name))
			      : env.Null());
	o.Set("metadata", Out(env, r.metadata.data(), r.metadata.size(), mstr));
	Napi::Array tags = Napi::Array::New(env, r.tags.size());
	for (size_t i = 0; i < r.tags.size(); i++)
		tags.Set(i, Napi::String::New(env, r.tags[i]));
	o.Set("tags", tags);
	o.Set("createdNs", Big(env, r.created));
	o.Set("updatedNs", Big(env, r.updated));
	return o;
}

template <typename T, typename F>
Napi::Object Page(Napi::Env env, const std::vector<T> &items, bool more, F make)
{
	Napi::Object o = Napi::Object::New(env);
	Napi::Array a = Napi::Array::New(env, items.size());
	for (size_t i = 0; i < items.size(); i++)
		a.Set(i, make(items[i]));
	o.Set("items", a);
	o.Set("more", Napi::Boolean::New(env, more));
	return o;
}

int StatusFrom(Napi::Env env, const Napi::Value &v)
{
	std::string s = GetText(v, "status");
	for (int st = RS_RUN_ACTIVE; st <= RS_RUN_ARCHIVED; st++)
		if (s == rs_run_status_name(static_cast<rs_run_status>(st)))
			return st;
	Throw(env, RS_EINVAL, "unknown run status '" + s + "'");
}

// ---- a worker for the calls that may wait on fdatasync ----

class Job : public Napi::AsyncWorker
{
      public:
	using Fn = std::function<int()>;
	using Done = std::function<Napi::Value(Napi::Env)>;

	Job(Napi::Env env, Fn fn, Done done)
	    : Napi::AsyncWorker(env, "runstate"), fn_(std::move(fn)),
	      done_(std::move(done)),
	      deferred_(Napi::Promise::Deferred::New(env))
	{
	}

	Napi::Promise Promise()
	{
		return deferred_.Promise();
	}

	void Execute() override
	{
		rc_ = fn_();
	}

	void OnOK() override
	{
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		if (rc_ < 0) {
			deferred_.Reject(MakeError(env, rc_, detail_).Value());
			return;
		}
		try {
			deferred_.Resolve(done_ ? done_(env) : env.Undefined());
		} catch (const Napi::Error &e) {
			deferred_.Reject(e.Value());
		}
	}

	void OnError(const Napi::Error &e) override
	{
		deferred_.Reject(e.Value());
	}

	std::string detail_;

      private:
	Fn fn_;
	Done done_;
	Napi::Promise::Deferred deferred_;
	int rc_ = 0;
};

Napi::Value Start(Napi::Env env, Job::Fn fn, Job::Done done = nullptr)
{
	Job *job = new Job(env, std::move(fn), std::move(done));
	Napi::Promise p = job->Promise();
	job->Queue();
	return p;
}

class Cursor;

// ---- the database ----

class Db : public Napi::ObjectWrap<Db>
{
      public:
	static Napi::FunctionReference *ctor;
	static Napi::Function Define(Napi::Env env);

	explicit Db(const Napi::CallbackInfo &info);
	~Db() override;

	rs_db *db_ = nullptr;
	rs_durability durability_ = RS_DURABILITY_INMEMORY;
	std::set<Cursor *> cursors_;

	// The transaction in progress, if any; gen_ names it for the tx
	// object of index.js.
	rs_txn *txn_ = nullptr;
	uint64_t gen_ = 0;
	bool txn_wrote_ = false;
	bool busy_ = false; // a C call is calling back into JavaScript
	std::deque<rs_event_receipt> receipts_;
	KvCollect scratch_; // the buffers of kv.list and kv.scan pages
	// kv.write's values joined from parts, kept between calls (up to
	// 1 MiB each); in use while joining_ (a getter on a parts array may
	// call kv.write again: that call joins into buffers of its own).
	std::deque<std::string> joined_;
	bool joining_ = false;

	std::string *Joined(size_t k)
	{
		if (k == joined_.size())
			joined_.emplace_back();
		std::string &j = joined_[k];
		// Its size is its room (GetValue): kept, unless a huge value
		// left it over 1 MiB.
		if (j.capacity() > (size_t(1) << 20))
			std::string().swap(j);
		return &j;
	}

	KvCollect &Scratch()
	{
		scratch_.Clear();
		return scratch_;
	}
	std::deque<uint64_t> trace_ids_;
	std::vector<uint8_t> order_; // 0: event receipt, 1: trace id

	rs_db *Handle(Napi::Env env)
	{
		if (db_ == nullptr)
			Throw(env, RS_EINVAL, "the database is closed");
		if (busy_)
			Throw(env, RS_EINVAL,
			      "not allowed inside a transition function");
		return db_;
	}

	rs_txn *Txn(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		Handle(env);
		uint64_t gen = GetU64(info[0], "transaction");
		if (txn_ == nullptr || gen != gen_)
			Throw(env, RS_EDONE,
			      "the transaction has ended (a tx object is valid "
			      "only inside its callback)");
		return txn_;
	}

	rs_txn *TxnWrite(const Napi::CallbackInfo &info)
	{
		rs_txn *t = Txn(info);
		txn_wrote_ = true;
		return t;
	}

	void CloseCursors();
	void EndTxn(bool abort);

	// The reads: one body per read, called in the caller's transaction
	// (tx.kv.get...: info[0] is the transaction) or in a read-only
	// transaction of its own, begun and ended by the call (db.kv.get...:
	// info[0] is the run). Every other argument is at the same place in
	// both forms.
	using ReadBody = Napi::Value (Db::*)(rs_txn *,
					     const Napi::CallbackInfo &);
	template <ReadBody Body>
	Napi::Value InTx(const Napi::CallbackInfo &info)
	{
		return (this->*Body)(Txn(info), info);
	}
	template <ReadBody Body>
	Napi::Value OneShot(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		rs_db *db = Handle(env);
		rs_run_id run = GetRun(info[0]);
		rs_txn *t = nullptr;
		Check(env, rs_txn_begin(&t, db, &run, RS_TXN_F_READONLY),
		      "read");
		try {
			Napi::Value v = (this->*Body)(t, info);
			rs_txn_abort(t);
			return v;
		} catch (...) {
			rs_txn_abort(t);
			throw;
		}
	}

	// database
	Napi::Value Close(const Napi::CallbackInfo &info);
	Napi::Value FlushAsync(const Napi::CallbackInfo &info);
	Napi::Value CheckpointAsync(const Napi::CallbackInfo &info);
	Napi::Value Stat(const Napi::CallbackInfo &info);
	Napi::Value RunVersion(const Napi::CallbackInfo &info);
	Napi::Value IsOpen(const Napi::CallbackInfo &info);
	Napi::Value InTxn(const Napi::CallbackInfo &info);
	// KV (its reads are below, with the transactions')
	Napi::Value KvCursor(const Napi::CallbackInfo &info);
	Napi::Value KvWrite(const Napi::CallbackInfo &info);
	// RunIndex
	Napi::Value RiGet(const Napi::CallbackInfo &info);
	Napi::Value RiQuery(const Napi::CallbackInfo &info);
	Napi::Value RiCreate(const Napi::CallbackInfo &info);
	Napi::Value RiTransition(const Napi::CallbackInfo &info);
	Napi::Value RiDelete(const Napi::CallbackInfo &info);
	// reads, in a transaction or one-shot (InTx, OneShot)
	Napi::Value KvGetBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value KvExistsBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value KvGetManyBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value KvListBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value KvScanBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElReadBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElRangeBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElLenBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElHeadBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElByTypeBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ElVerifyBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ScReadBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ScListBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value ScScanBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value TsGetBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value TsQueryBody(rs_txn *t, const Napi::CallbackInfo &info);
	Napi::Value TsTreeBody(rs_txn *t, const Napi::CallbackInfo &info);
	// transactions
	Napi::Value TxBegin(const Napi::CallbackInfo &info);
	Napi::Value TxCommit(const Napi::CallbackInfo &info);
	Napi::Value TxResults(const Napi::CallbackInfo &info);
	Napi::Value TxAbort(const Napi::CallbackInfo &info);
	Napi::Value TxSnapshotVersion(const Napi::CallbackInfo &info);
	Napi::Value TxKvPut(const Napi::CallbackInfo &info);
	Napi::Value TxKvDelete(const Napi::CallbackInfo &info);
	Napi::Value TxKvCursor(const Napi::CallbackInfo &info);
	Napi::Value TxElAppend(const Napi::CallbackInfo &info);
	Napi::Value TxScInit(const Napi::CallbackInfo &info);
	Napi::Value TxScSet(const Napi::CallbackInfo &info);
	Napi::Value TxScCas(const Napi::CallbackInfo &info);
	Napi::Value TxScTransition(const Napi::CallbackInfo &info);
	Napi::Value TxScDelete(const Napi::CallbackInfo &info);
	Napi::Value TxTsRecord(const Napi::CallbackInfo &info);
};

Napi::FunctionReference *Db::ctor = nullptr;

// ---- cursors ----

class Cursor : public Napi::ObjectWrap<Cursor>
{
      public:
	static Napi::FunctionReference *ctor;
	static Napi::Function Define(Napi::Env env);

	explicit Cursor(const Napi::CallbackInfo &info) : ObjectWrap(info)
	{
	}
	~Cursor() override
	{
		Release();
	}

	Db *owner_ = nullptr;
	rs_cursor *cur_ = nullptr;
	uint64_t gen_ = 0; // the transaction's, or 0 for a one-shot cursor
	bool kstr_ = false, vstr_ = false;
	Napi::ObjectReference db_ref_; // keeps the database object alive

	void Release()
	{
		if (cur_ != nullptr && owner_ != nullptr && gen_ == 0 &&
		    owner_->db_ != nullptr) {
			rs_cursor_close(cur_);
			owner_->cursors_.erase(this);
		}
		cur_ = nullptr;
		owner_ = nullptr;
		if (!db_ref_.IsEmpty())
			db_ref_.Reset();
	}

	rs_cursor *Get(Napi::Env env)
	{
		if (cur_ == nullptr || owner_ == nullptr ||
		    owner_->db_ == nullptr)
			Throw(env, RS_EINVAL, "the cursor is closed");
		if (owner_->busy_)
			Throw(env, RS_EINVAL,
			      "not allowed inside a transition function");
		if (gen_ != 0 &&
		    (owner_->txn_ == nullptr || owner_->gen_ != gen_))
			Throw(env, RS_EDONE,
			      "the cursor's transaction has ended");
		return cur_;
	}

	Napi::Value Result(Napi::Env env, int rc, rs_bytes k, rs_bytes v)
	{
		if (rc == RS_ENOTFOUND)
			return env.Undefined();
		Check(env, rc, "cursor");
		Napi::Array a = Napi::Array::New(env, 2);
		a.Set(0u, OutKv(env, k, kstr_));
		a.Set(1u, OutKv(env, v, vstr_));
		return a;
	}

	Napi::Value Seek(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		rs_cursor *c = Get(env);
		Bytes key = GetBytes(info[0], "key");
		rs_seek how = GetBool(info[1]) ? RS_SEEK_LE : RS_SEEK_GE;
		rs_bytes k, v;
		int rc = rs_cursor_seek(c, key.data, key.len, how, &k, &v);
		return Result(env, rc, k, v);
	}

	// first(prefix) and last(prefix).
	using EndFn = int (*)(rs_cursor *, const void *, size_t, rs_bytes *,
			      rs_bytes *);
	template <EndFn Fn> Napi::Value End(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		rs_cursor *c = Get(env);
		Bytes p = GetBytes(info[0], "prefix", true);
		rs_bytes k, v;
		int rc = Fn(c, p.present ? p.data : nullptr, p.len, &k, &v);
		return Result(env, rc, k, v);
	}

	// next() and prev().
	using StepFn = int (*)(rs_cursor *, rs_bytes *, rs_bytes *);
	template <StepFn Fn> Napi::Value Step(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		rs_cursor *c = Get(env);
		rs_bytes k, v;
		return Result(env, Fn(c, &k, &v), k, v);
	}

	Napi::Value CloseJs(const Napi::CallbackInfo &info)
	{
		if (cur_ != nullptr && owner_ != nullptr && gen_ != 0 &&
		    owner_->txn_ != nullptr && owner_->gen_ == gen_)
			rs_cursor_close(cur_);
		Release();
		return info.Env().Undefined();
	}
};

Napi::FunctionReference *Cursor::ctor = nullptr;

Napi::Function Cursor::Define(Napi::Env env)
{
	return DefineClass(
		env, "Cursor",
		{ InstanceMethod("seek", &Cursor::Seek),
		  InstanceMethod("first", &Cursor::End<rs_cursor_first>),
		  InstanceMethod("last", &Cursor::End<rs_cursor_last>),
		  InstanceMethod("next", &Cursor::Step<rs_cursor_next>),
		  InstanceMethod("prev", &Cursor::Step<rs_cursor_prev>),
		  InstanceMethod("close", &Cursor::CloseJs) });
}

Napi::Value NewCursor(Napi::Env env, Db *db, Napi::Object self, rs_cursor *c,
		      uint64_t gen, bool kstr, bool vstr)
{
	Napi::Object o = Cursor::ctor->New({});
	Cursor *w = Cursor::Unwrap(o);
	w->owner_ = db;
	w->cur_ = c;
	w->gen_ = gen;
	w->kstr_ = kstr;
	w->vstr_ = vstr;
	w->db_ref_ = Napi::Persistent(self);
	if (gen == 0)
		db->cursors_.insert(w);
	return o;
}

// ---- Db ----

Db::Db(const Napi::CallbackInfo &info) : ObjectWrap(info)
{
	if (info.Length() >= 2 && info[0].IsExternal()) {
		db_ = info[0].As<Napi::External<rs_db>>().Data();
		durability_ = static_cast<rs_durability>(
			info[1].As<Napi::Number>().Int32Value());
	}
}

void Db::CloseCursors()
{
	// One-shot cursors hold a context of this thread: close them here,
	// on the thread that opened them, before the database goes.
	std::set<Cursor *> all;
	all.swap(cursors_);
	for (Cursor *c : all) {
		if (c->cur_ != nullptr)
			rs_cursor_close(c->cur_);
		c->cur_ = nullptr;
		c->owner_ = nullptr;
	}
}

Db::~Db()
{
	// Finalized without close(): close here, on the JavaScript thread
	// (blocking; call close() to avoid it).
	if (db_ != nullptr) {
		if (txn_ != nullptr)
			rs_txn_abort(txn_);
		txn_ = nullptr;
		CloseCursors();
		rs_db_close(db_);
		db_ = nullptr;
	}
}

Napi::Value Db::IsOpen(const Napi::CallbackInfo &info)
{
	return Napi::Boolean::New(info.Env(), db_ != nullptr);
}

Napi::Value Db::InTxn(const Napi::CallbackInfo &info)
{
	return Napi::Boolean::New(info.Env(), txn_ != nullptr);
}

// close(async): async closes on the libuv pool and returns a promise.
Napi::Value Db::Close(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	if (txn_ != nullptr)
		Throw(env, RS_EBUSY, "close inside a transaction");
	CloseCursors();
	db_ = nullptr;
	if (GetBool(info[0]))
		return Start(env, [db]() {
			rs_db_close(db);
			return 0;
		});
	rs_db_close(db);
	return env.Undefined();
}

Napi::Value Db::FlushAsync(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	return Start(env, [db]() { return rs_db_flush(db); });
}

Napi::Value Db::CheckpointAsync(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	return Start(env, [db]() { return rs_db_checkpoint(db); });
}

Napi::Value Db::Stat(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db_stats st = RS_DB_STATS_INIT;
	Check(env, rs_db_stat(Handle(env), &st), "stat");
	Napi::Object o = Napi::Object::New(env);
	o.Set("checkpointUsed", Napi::Boolean::New(env, st.checkpoint_used));
	o.Set("checkpointRuns", U64(env, st.checkpoint_runs));
	o.Set("checkpointEntries", U64(env, st.checkpoint_entries));
	o.Set("recordsReplayed", U64(env, st.records_replayed));
	o.Set("recordsSkipped", U64(env, st.records_skipped));
	o.Set("bytesTruncated", U64(env, st.bytes_truncated));
	o.Set("bytesSalvaged", U64(env, st.bytes_salvaged));
	o.Set("segmentsRead", U64(env, st.segments_read));
	o.Set("recoveryNs", U64(env, st.recovery_ns));
	o.Set("walRecords", U64(env, st.wal_records));
	o.Set("walBytes", U64(env, st.wal_bytes));
	o.Set("walSyncs", U64(env, st.wal_syncs));
	o.Set("checkpoints", U64(env, st.checkpoints));
	o.Set("walBytesSinceCheckpoint",
	      U64(env, st.wal_bytes_since_checkpoint));
	return o;
}

Napi::Value Db::RunVersion(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	rs_run_id run = GetRun(info[0]);
	uint64_t v = 0;
	Check(env, rs_db_run_version(db, &run, &v), "runVersion");
	return U64(env, v);
}

// ---- KV: what its reads share ----

std::vector<Bytes> GetKeyArray(const Napi::Value &v)
{
	if (!v.IsArray())
		Throw(v.Env(), RS_EINVAL, "keys must be an array");
	Napi::Array a = v.As<Napi::Array>();
	std::vector<Bytes> keys;
	keys.reserve(a.Length());
	for (uint32_t i = 0; i < a.Length(); i++)
		keys.push_back(GetBytes(a.Get(i), "key"));
	return keys;
}

std::vector<rs_bytes> Views(const std::vector<Bytes> &keys)
{
	std::vector<rs_bytes> v(keys.size());
	for (size_t i = 0; i < keys.size(); i++)
		v[i] = { keys[i].data, keys[i].len };
	return v;
}

Napi::Array ManyResult(Napi::Env env, const std::vector<rs_bytes> &vals,
		       bool vstr)
{
	Napi::Array out = Napi::Array::New(env, vals.size());
	for (size_t i = 0; i < vals.size(); i++)
		out.Set(i, vals[i].data == nullptr ? env.Undefined()
						   : OutKv(env, vals[i], vstr));
	return out;
}

// Scan options from (start, end, resume, limit, reverse) at info[i..].
struct ScanArgs {
	Bytes start, end, resume;
	rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
};

void GetScan(const Napi::CallbackInfo &info, size_t i, ScanArgs &s)
{
	s.start = GetBytes(info[i], "start", true);
	s.end = GetBytes(info[i + 1], "end", true);
	s.resume = GetBytes(info[i + 2], "resume", true);
	s.opts.limit = GetLimit(info[i + 3]);
	s.opts.flags = GetBool(info[i + 4]) ? RS_SCAN_REVERSE : 0;
	if (s.start.present) {
		s.opts.start = s.start.data;
		s.opts.start_len = s.start.len;
	}
	if (s.end.present) {
		s.opts.end = s.end.data;
		s.opts.end_len = s.end.len;
	}
	if (s.resume.present) {
		s.opts.resume = s.resume.data;
		s.opts.resume_len = s.resume.len;
	}
}

Napi::Value Db::KvCursor(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	rs_run_id run = GetRun(info[0]);
	rs_cursor *c = nullptr;
	Check(env, rs_kv_cursor_open(db, &run, &c), "kv.cursor");
	return NewCursor(env, this, Value(), c, 0, GetBool(info[1]),
			 GetBool(info[2]));
}

// ---- KV (a batch of writes, one commit) ----

enum WriteOp : int {
	kPut = 0,
	kPutIfAbsent = 1,
	kDelete = 2
};

// The most (op, key, value) triples kvWrite takes as arguments.
constexpr uint32_t kArgOps = 4;

struct StagedWrite {
	int op;
	Bytes key, val;
};

struct WriteBatch {
	std::vector<StagedWrite> ops;
	bool logged = false;
	bool wrote = false;
};

// The body of kvWrite's transaction (rs_txn_run may run it again after a
// conflict: it only stages writes, so a rerun is harmless).
int WriteBatchFn(rs_txn *t, void *ctx)
{
	auto *b = static_cast<WriteBatch *>(ctx);
	b->wrote = false;
	if (b->logged) {
		int rc = rs_txn_set_durability(t, RS_DURABILITY_BUFFERED);
		if (rc < 0)
			return rc;
	}
	for (const StagedWrite &w : b->ops) {
		int rc = 0;
		if (w.op == kDelete) {
			bool existed = false;
			rc = rs_txn_kv_delete(t, w.key.data, w.key.len,
					      &existed);
		} else {
			if (w.op == kPutIfAbsent) {
				bool exists = false;
				rc = rs_txn_kv_exists(t, w.key.data, w.key.len,
						      &exists);
				if (rc < 0)
					return rc;
				if (exists)
					continue;
			}
			rc = rs_txn_kv_put(t, w.key.data, w.key.len, w.val.data,
					   w.val.len);
		}
		if (rc < 0)
			return rc;
		b->wrote = true;
	}
	return 0;
}

// kvWrite(run, ops) -> whether anything was written. ops is flat: op code,
// key, value (ignored for a delete; bytes, or an array of parts that
// GetValue joins), op code, key, value..., one array, or
// (up to kArgOps triples) the arguments after run. Stages every
// write in one transaction and commits it (retried on conflict: a
// put-if-absent reads its key), all inside this call, on this thread; a
// logged database commits Buffered (index.js makes a Strict one
// durable with flushAsync, as for every other commit).
Napi::Value Db::KvWrite(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	if (txn_ != nullptr)
		Throw(env, RS_EINVAL,
		      "a transaction is already running on this database "
		      "(use the tx object inside the callback)");
	rs_run_id run = GetRun(info[0]);
	// The triples as arguments (up to kArgOps of them: no array to read
	// element by element, each a property lookup through N-API), or as
	// one array.
	bool args = !info[1].IsArray();
	Napi::Array a;
	uint32_t n;
	if (args) {
		n = static_cast<uint32_t>(info.Length() - 1);
		if (n == 0 || n > 3 * kArgOps)
			Throw(env, RS_EINVAL, "ops must be an array");
	} else {
		a = info[1].As<Napi::Array>();
		n = a.Length();
	}
	if (n % 3 != 0)
		Throw(env, RS_EINVAL, "ops must be (op, key, value) triples");
	auto at = [&](uint32_t i) { return args ? info[1 + i] : a.Get(i); };
	WriteBatch b;
	b.logged = durability_ != RS_DURABILITY_INMEMORY;
	struct Joining {
		bool &flag, outer;
		~Joining()
		{
			if (outer)
				flag = false;
		}
	} joining{ joining_, !joining_ };
	joining_ = true;
	size_t joined = 0;
	b.ops.resize(n / 3);
	for (uint32_t i = 0; i < n / 3; i++) {
		StagedWrite &w = b.ops[i];
		Napi::Value op = at(3 * i);
		w.op = op.IsNumber() ? op.As<Napi::Number>().Int32Value() : -1;
		if (w.op < kPut || w.op > kDelete)
			Throw(env, RS_EINVAL, "unknown write op");
		w.key = GetBytes(at(3 * i + 1), "key");
		if (w.op != kDelete) {
			Napi::Value v = at(3 * i + 2);
			w.val = GetValue(v, "value",
					 joining.outer && v.IsArray()
						 ? Joined(joined++)
						 : nullptr);
		}
	}
	Check(env, rs_txn_run(db, &run, 0, 0, WriteBatchFn, &b), "kv.write");
	return Napi::Boolean::New(env, b.wrote);
}

// ---- EventLog: what its reads share ----

Napi::Value EventArray(Napi::Env env, const Collect<EventItem> &c, bool vstr)
{
	Napi::Array a = Napi::Array::New(env, c.items.size());
	for (size_t i = 0; i < c.items.size(); i++)
		a.Set(i, JsEvent(env, c.items[i], vstr));
	return a;
}

Napi::Object HeadObject(Napi::Env env, uint64_t len, const uint8_t *hash)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("len", U64(env, len));
	o.Set("hash", Napi::Buffer<uint8_t>::Copy(env, hash, RS_HASH_LEN));
	return o;
}

Napi::Object CursorPage(Napi::Env env, Napi::Object page, uint64_t cursor)
{
	page.Set("cursor", U64(env, cursor));
	return page;
}

Napi::Object VerifyResult(Napi::Env env, int rc, uint64_t bad)
{
	if (rc != 0 && rc != RS_ECORRUPT)
		Throw(env, rc, "eventlog.verify");
	Napi::Object o = Napi::Object::New(env);
	o.Set("ok", Napi::Boolean::New(env, rc == 0));
	o.Set("badSeq", rc == 0 ? env.Null() : U64(env, bad));
	return o;
}

// ---- StateCell: what its reads share ----

Napi::Object CellValue(Napi::Env env, const void *p, size_t n, uint64_t ver,
		       bool vstr)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("value", Out(env, p, n, vstr));
	o.Set("version", U64(env, ver));
	return o;
}

Napi::Object CellPage(Napi::Env env, const Collect<CellItem> &c, bool more,
		      bool vstr)
{
	return Page(env, c.items, more,
		    [&](const CellItem &it) { return JsCell(env, it, vstr); });
}

// ---- TraceStore: what its reads share ----

uint64_t GetTraceRef(const Napi::Value &v, const char *what)
{
	if (IsNullish(v))
		return RS_TRACE_NONE;
	return GetU64(v, what); // a number, or a BigInt pending handle
}

Napi::Object TracePage(Napi::Env env, const Collect<TraceItem> &c, bool more,
		       uint64_t cursor, bool vstr)
{
	return CursorPage(env,
			  Page(env, c.items, more,
			       [&](const TraceItem &t) {
				       return JsTrace(env, t, vstr, false);
			       }),
			  cursor);
}

// The query kind: 0 type, 1 tag, 2 children, 3 time. Arguments after the
// kind: (a, b, cursor, limit, vstr): a is the type, tag, parent or t0;
// b is t1 for time queries.
template <typename TypeFn, typename TagFn, typename ChildFn, typename TimeFn>
Napi::Value TraceQuery(const Napi::CallbackInfo &info, size_t i, TypeFn by_type,
		       TagFn by_tag, ChildFn children, TimeFn by_time)
{
	Napi::Env env = info.Env();
	int kind = info[i].As<Napi::Number>().Int32Value();
	uint64_t cursor =
		IsNullish(info[i + 3]) ? 0 : GetU64(info[i + 3], "cursor");
	size_t limit = GetLimit(info[i + 4]);
	bool vstr = GetBool(info[i + 5]);
	Collect<TraceItem> c;
	bool more = false;
	int rc;
	if (kind == 0 || kind == 1) {
		Bytes s = GetBytes(info[i + 1], kind == 0 ? "type" : "tag");
		const char *p = static_cast<const char *>(s.data);
		rc = kind == 0 ? by_type(p, s.len, &cursor, limit, &more, &c)
			       : by_tag(p, s.len, &cursor, limit, &more, &c);
	} else if (kind == 2) {
		uint64_t parent = GetU64(info[i + 1], "parent");
		rc = children(parent, &cursor, limit, &more, &c);
	} else {
		uint64_t t0 = GetU64(info[i + 1], "t0");
		uint64_t t1 = GetBound(info[i + 2], "t1");
		rc = by_time(t0, t1, &cursor, limit, &more, &c);
	}
	Check(env, rc, "tracestore query");
	return TracePage(env, c, more, cursor, vstr);
}

Napi::Value TreeResult(Napi::Env env, int rc, const Collect<TraceItem> &c,
		       bool vstr)
{
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "tracestore.tree");
	Napi::Array a = Napi::Array::New(env, c.items.size());
	for (size_t i = 0; i < c.items.size(); i++)
		a.Set(i, JsTrace(env, c.items[i], vstr, true));
	return a;
}

unsigned GetDepth(const Napi::Value &v)
{
	if (IsNullish(v))
		return UINT32_MAX;
	uint64_t d = GetU64(v, "maxDepth");
	return d > UINT32_MAX ? UINT32_MAX : static_cast<unsigned>(d);
}

// ---- RunIndex ----

// riGet(byName, idOrName, mstr)
Napi::Value Db::RiGet(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	bool by_name = GetBool(info[0]);
	rs_run_id id;
	std::string name;
	if (by_name)
		name = GetText(info[1], "name");
	else
		id = GetRun(info[1]);
	std::vector<uint8_t> buf(512);
	rs_run_info ri;
	size_t need = 0;
	int rc;
	for (;;) {
		rc = by_name ? rs_runindex_get_by_name(
				       db, name.data(), name.size(), &ri,
				       buf.data(), buf.size(), &need)
			     : rs_runindex_get(db, &id, &ri, buf.data(),
					       buf.size(), &need);
		if (rc != RS_ENOSPC)
			break;
		buf.resize(need);
	}
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "runindex.get");
	return JsRun(env, ToRun(&ri), GetBool(info[2]));
}

// riQuery(kind, arg, cursor, limit, mstr): kind 0 all, 1 status, 2 tag,
// 3 parent.
Napi::Value Db::RiQuery(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	int kind = info[0].As<Napi::Number>().Int32Value();
	uint64_t cursor = IsNullish(info[2]) ? 0 : GetU64(info[2], "cursor");
	size_t limit = GetLimit(info[3]);
	bool mstr = GetBool(info[4]);
	Collect<RunItem> c;
	bool more = false;
	int rc;
	if (kind == 0) {
		rc = rs_runindex_list(db, &cursor, limit, &more, RunCb, &c);
	} else if (kind == 1) {
		int st = StatusFrom(env, info[1]);
		rc = rs_runindex_query_by_status(
			db, static_cast<rs_run_status>(st), &cursor, limit,
			&more, RunCb, &c);
	} else if (kind == 2) {
		Bytes tag = GetBytes(info[1], "tag");
		rc = rs_runindex_query_by_tag(
			db, static_cast<const char *>(tag.data), tag.len,
			&cursor, limit, &more, RunCb, &c);
	} else {
		rs_run_id parent = GetRun(info[1], "parent");
		rc = rs_runindex_query_by_parent(db, &parent, &cursor, limit,
						 &more, RunCb, &c);
	}
	Check(env, rc, "runindex query");
	return CursorPage(
		env,
		Page(env, c.items, more,
		     [&](const RunItem &r) { return JsRun(env, r, mstr); }),
		cursor);
}

// Owned copies of rs_runindex_create()'s inputs, so that the call can run
// on the pool after this function has returned.
struct CreateArgs {
	bool has_id = false, has_parent = false, has_name = false,
	     has_meta = false;
	rs_run_id id, parent;
	std::string name, meta;
	std::vector<std::string> tags;
	std::vector<rs_bytes> tag_views;
	rs_run_id out;

	int Run(rs_db *db)
	{
		rs_runindex_create_options o = RS_RUNINDEX_CREATE_OPTIONS_INIT;
		if (has_id)
			o.id = &id;
		if (has_parent)
			o.parent = &parent;
		if (has_name) {
			o.name = name.data();
			o.name_len = name.size();
		}
		tag_views.clear();
		for (const std::string &t : tags)
			tag_views.push_back({ t.data(), t.size() });
		o.tags = tag_views.empty() ? nullptr : tag_views.data();
		o.ntags = tag_views.size();
		if (has_meta) {
			o.metadata = meta.data();
			o.metadata_len = meta.size();
		}
		return rs_runindex_create(db, &o, &out);
	}
};

std::vector<std::string> GetTags(const Napi::Value &v)
{
	std::vector<std::string> tags;
	if (IsNullish(v))
		return tags;
	if (!v.IsArray())
		Throw(v.Env(), RS_EINVAL, "tags must be an array of strings");
	Napi::Array a = v.As<Napi::Array>();
	for (uint32_t i = 0; i < a.Length(); i++)
		tags.push_back(GetText(a.Get(i), "tag"));
	return tags;
}

// riCreate(id, name, parent, tags, metadata, async)
Napi::Value Db::RiCreate(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	auto a = std::make_shared<CreateArgs>();
	if (!IsNullish(info[0])) {
		a->has_id = true;
		a->id = GetRun(info[0]);
	}
	if (!IsNullish(info[1])) {
		a->has_name = true;
		a->name = GetText(info[1], "name");
	}
	if (!IsNullish(info[2])) {
		a->has_parent = true;
		a->parent = GetRun(info[2], "parent");
	}
	a->tags = GetTags(info[3]);
	Bytes meta = GetBytes(info[4], "metadata", true);
	if (meta.present) {
		a->has_meta = true;
		a->meta.assign(static_cast<const char *>(meta.data), meta.len);
	}
	if (GetBool(info[5]))
		return Start(
			env, [a, db]() { return a->Run(db); },
			[a](Napi::Env e) -> Napi::Value {
				return RunString(e, a->out);
			});
	Check(env, a->Run(db), "runindex.create");
	return RunString(env, a->out);
}

// riTransition(id, to, async) -> the previous status. A refused transition
// is RS_ETRANSITION with .from set.
Napi::Value Db::RiTransition(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	rs_run_id id = GetRun(info[0]);
	rs_run_status to = static_cast<rs_run_status>(StatusFrom(env, info[1]));
	struct St {
		rs_run_status from = RS_RUN_ACTIVE;
		int rc = 0;
	};
	auto st = std::make_shared<St>();
	auto finish = [st](Napi::Env e) -> Napi::Value {
		if (st->rc == RS_ETRANSITION) {
			Napi::Error err =
				MakeError(e, st->rc,
					  std::string("from ") +
						  rs_run_status_name(st->from));
			err.Set("from",
				Napi::String::New(
					e, rs_run_status_name(st->from)));
			throw err;
		}
		Check(e, st->rc, "runindex.transition");
		return Napi::String::New(e, rs_run_status_name(st->from));
	};
	if (GetBool(info[2]))
		return Start(
			env,
			[st, db, id, to]() {
				st->rc = rs_runindex_transition(db, &id, to,
								&st->from);
				return 0;
			},
			finish);
	st->rc = rs_runindex_transition(db, &id, to, &st->from);
	return finish(env);
}

// riDelete(id, async)
Napi::Value Db::RiDelete(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	rs_run_id id = GetRun(info[0]);
	if (GetBool(info[1]))
		return Start(env, [db, id]() {
			return rs_runindex_delete(db, &id);
		});
	Check(env, rs_runindex_delete(db, &id), "runindex.delete");
	return env.Undefined();
}

// ---- transactions ----

void Db::EndTxn(bool abort)
{
	if (txn_ != nullptr && abort)
		rs_txn_abort(txn_);
	txn_ = nullptr;
	gen_++;
}

// txBegin(run, readonly) -> the transaction's generation.
Napi::Value Db::TxBegin(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_db *db = Handle(env);
	if (txn_ != nullptr)
		Throw(env, RS_EINVAL,
		      "a transaction is already running on this database "
		      "(use the tx object inside the callback)");
	rs_run_id run = GetRun(info[0]);
	uint32_t flags = GetBool(info[1]) ? RS_TXN_F_READONLY : 0;
	rs_txn *t = nullptr;
	Check(env, rs_txn_begin(&t, db, &run, flags), "transaction");
	if (durability_ != RS_DURABILITY_INMEMORY && flags == 0) {
		// Never wait on fdatasync here: the JavaScript layer makes a
		// Strict commit durable with flushAsync().
		int rc = rs_txn_set_durability(t, RS_DURABILITY_BUFFERED);
		if (rc < 0) {
			rs_txn_abort(t);
			Throw(env, rc, "transaction durability");
		}
	}
	txn_ = t;
	txn_wrote_ = false;
	receipts_.clear();
	trace_ids_.clear();
	order_.clear();
	gen_++;
	return U64(env, gen_);
}

// txCommit(gen) -> whether it wrote; throws on error (RS_ECONFLICT
// included: index.js retries).
Napi::Value Db::TxCommit(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = Txn(info);
	bool wrote = txn_wrote_;
	txn_ = nullptr;
	gen_++;
	int rc = rs_txn_commit(t);
	if (rc < 0)
		Throw(env, rc, "commit");
	return Napi::Boolean::New(env, wrote);
}

// txResults() -> {events: [...], traces: [...]}: what the last commit
// filled in for the receipts its transaction handed out (kept until the
// next txBegin).
Napi::Value Db::TxResults(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object o = Napi::Object::New(env);
	Napi::Array ev = Napi::Array::New(env, receipts_.size());
	for (size_t i = 0; i < receipts_.size(); i++) {
		const rs_event_receipt &r = receipts_[i];
		Napi::Object e = Napi::Object::New(env);
		e.Set("seq", U64(env, r.seq));
		e.Set("timestampNs", Big(env, r.timestamp_ns));
		e.Set("hash",
		      Napi::Buffer<uint8_t>::Copy(env, r.hash, RS_HASH_LEN));
		ev.Set(i, e);
	}
	o.Set("events", ev);
	Napi::Array tr = Napi::Array::New(env, trace_ids_.size());
	for (size_t i = 0; i < trace_ids_.size(); i++)
		tr.Set(i, U64(env, trace_ids_[i]));
	o.Set("traces", tr);
	return o;
}

Napi::Value Db::TxAbort(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (db_ != nullptr && txn_ != nullptr && !IsNullish(info[0]) &&
	    GetU64(info[0], "transaction") == gen_)
		EndTxn(true);
	return env.Undefined();
}

Napi::Value Db::TxSnapshotVersion(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t v = 0;
	Check(env, rs_txn_snapshot_version(Txn(info), &v), "snapshotVersion");
	return U64(env, v);
}

// txKvPut(gen, key, val)
Napi::Value Db::TxKvPut(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	Bytes key = GetBytes(info[1], "key");
	Bytes val = GetValue(info[2], "value");
	Check(env, rs_txn_kv_put(t, key.data, key.len, val.data, val.len),
	      "kv.put");
	return env.Undefined();
}

Napi::Value Db::KvGetBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Bytes key = GetBytes(info[1], "key");
	rs_bytes v;
	int rc = rs_txn_kv_get(t, key.data, key.len, &v);
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "kv.get");
	return OutKv(env, v, GetBool(info[2]));
}

Napi::Value Db::TxKvDelete(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	Bytes key = GetBytes(info[1], "key");
	bool existed = false;
	Check(env, rs_txn_kv_delete(t, key.data, key.len, &existed),
	      "kv.delete");
	return Napi::Boolean::New(env, existed);
}

Napi::Value Db::KvExistsBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Bytes key = GetBytes(info[1], "key");
	bool exists = false;
	Check(env, rs_txn_kv_exists(t, key.data, key.len, &exists),
	      "kv.exists");
	return Napi::Boolean::New(env, exists);
}

Napi::Value Db::KvGetManyBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::vector<Bytes> keys = GetKeyArray(info[1]);
	std::vector<rs_bytes> kv = Views(keys), vals(keys.size());
	Check(env, rs_txn_kv_get_many(t, kv.size(), kv.data(), vals.data()),
	      "kv.getMany");
	return ManyResult(env, vals, GetBool(info[2]));
}

// txKvList(gen, prefix, after, limit, kstr, vstr)
Napi::Value Db::KvListBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Bytes prefix = GetBytes(info[1], "prefix", true);
	Bytes after = GetBytes(info[2], "after", true);
	size_t limit = GetLimit(info[3]);
	bool kstr = GetBool(info[4]), vstr = GetBool(info[5]);
	KvCollect &c = Scratch();
	bool more = false;
	Check(env,
	      rs_txn_kv_list(t, prefix.present ? prefix.data : nullptr,
			     prefix.len, after.present ? after.data : nullptr,
			     after.len, limit, &more, KvCb, &c),
	      "kv.list");
	return KvPacked(env, c, more, kstr, vstr);
}

// txKvScan(gen, start, end, resume, limit, reverse, kstr, vstr)
Napi::Value Db::KvScanBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	ScanArgs s;
	GetScan(info, 1, s);
	bool kstr = GetBool(info[6]), vstr = GetBool(info[7]);
	KvCollect &c = Scratch();
	bool more = false;
	Check(env, rs_txn_kv_scan(t, &s.opts, &more, KvCb, &c), "kv.scan");
	return KvPacked(env, c, more, kstr, vstr);
}

Napi::Value Db::TxKvCursor(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = Txn(info);
	rs_cursor *c = nullptr;
	Check(env, rs_txn_kv_cursor_open(t, &c), "kv.cursor");
	return NewCursor(env, this, Value(), c, gen_, GetBool(info[1]),
			 GetBool(info[2]));
}

// txElAppend(gen, type, payload) -> index of its receipt in the commit's
// result (events).
Napi::Value Db::TxElAppend(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	Bytes type = GetBytes(info[1], "type");
	Bytes payload = GetBytes(info[2], "payload");
	receipts_.emplace_back();
	int rc = rs_txn_eventlog_append(t, static_cast<const char *>(type.data),
					type.len, payload.data, payload.len,
					&receipts_.back());
	if (rc < 0) {
		receipts_.pop_back();
		Throw(env, rc, "eventlog.append");
	}
	return Napi::Number::New(env,
				 static_cast<double>(receipts_.size() - 1));
}

Napi::Value Db::ElReadBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t seq = GetU64(info[1], "seq");
	rs_event ev;
	int rc = rs_txn_eventlog_read(t, seq, &ev);
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "eventlog.read");
	return JsEvent(env, ToEvent(&ev), GetBool(info[2]));
}

// txElRange(gen, start, end, limit, vstr)
Napi::Value Db::ElRangeBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t start = IsNullish(info[1]) ? 0 : GetU64(info[1], "start");
	uint64_t end = GetBound(info[2], "end");
	Collect<EventItem> c;
	c.limit = GetLimit(info[3]);
	int rc = rs_txn_eventlog_read_range(t, start, end, EventCb, &c);
	if (rc != 1)
		Check(env, rc, "eventlog.range");
	return EventArray(env, c, GetBool(info[4]));
}

Napi::Value Db::ElLenBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t len = 0;
	Check(env, rs_txn_eventlog_len(t, &len), "eventlog.len");
	return U64(env, len);
}

Napi::Value Db::ElHeadBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t len = 0;
	uint8_t hash[RS_HASH_LEN];
	Check(env, rs_txn_eventlog_head(t, &len, hash), "eventlog.head");
	return HeadObject(env, len, hash);
}

// txElByType(gen, type, cursor, limit, vstr)
Napi::Value Db::ElByTypeBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Bytes type = GetBytes(info[1], "type");
	uint64_t cursor = IsNullish(info[2]) ? 0 : GetU64(info[2], "cursor");
	size_t limit = GetLimit(info[3]);
	bool vstr = GetBool(info[4]);
	Collect<EventItem> c;
	bool more = false;
	Check(env,
	      rs_txn_eventlog_read_by_type(
		      t, static_cast<const char *>(type.data), type.len,
		      &cursor, limit, &more, EventCb, &c),
	      "eventlog.byType");
	return CursorPage(
		env,
		Page(env, c.items, more,
		     [&](const EventItem &e) { return JsEvent(env, e, vstr); }),
		cursor);
}

Napi::Value Db::ElVerifyBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t bad = 0;
	int rc = rs_txn_eventlog_verify_chain(t, &bad);
	return VerifyResult(env, rc, bad);
}

// txScInit(gen, name, value)
Napi::Value Db::TxScInit(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	std::string name = GetText(info[1], "name");
	Bytes val = GetBytes(info[2], "value");
	uint64_t ver = 0;
	Check(env,
	      rs_txn_statecell_init(t, name.data(), name.size(), val.data,
				    val.len, &ver),
	      "statecell.init");
	return U64(env, ver);
}

Napi::Value Db::ScReadBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string name = GetText(info[1], "name");
	rs_bytes v;
	uint64_t ver = 0;
	int rc = rs_txn_statecell_read(t, name.data(), name.size(), &v, &ver);
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "statecell.read");
	return CellValue(env, v.data, v.len, ver, GetBool(info[2]));
}

Napi::Value Db::TxScSet(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	std::string name = GetText(info[1], "name");
	Bytes val = GetBytes(info[2], "value");
	uint64_t ver = 0;
	Check(env,
	      rs_txn_statecell_set(t, name.data(), name.size(), val.data,
				   val.len, &ver),
	      "statecell.set");
	return U64(env, ver);
}

// txScCas(gen, name, expected, value)
Napi::Value Db::TxScCas(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	std::string name = GetText(info[1], "name");
	uint64_t expected = GetU64(info[2], "expected version");
	Bytes val = GetBytes(info[3], "value");
	uint64_t ver = 0;
	Check(env,
	      rs_txn_statecell_cas(t, name.data(), name.size(), expected,
				   val.data, val.len, &ver),
	      "statecell.cas");
	return U64(env, ver);
}

// The transition function's context: the JavaScript function, and what it
// returned (kept alive until the C call has copied it).
struct TransitionCtx {
	Napi::Env env;
	Napi::Function fn;
	bool vstr;
	Bytes result;
	bool threw = false;
	Napi::Error error;
};

int TransitionCb(rs_bytes value, uint64_t version, rs_bytes *out, void *ctx)
{
	auto *c = static_cast<TransitionCtx *>(ctx);
	try {
		Napi::Value r = c->fn.Call(
			{ Out(c->env, value, c->vstr), U64(c->env, version) });
		if (IsNullish(r))
			return 0; // write nothing
		c->result = GetBytes(r, "the transition's new value");
		out->data = c->result.data;
		out->len = c->result.len;
		return 0;
	} catch (const Napi::Error &e) {
		c->threw = true;
		c->error = e;
		return 1;
	}
}

// txScTransition(gen, name, fn, vstr)
Napi::Value Db::TxScTransition(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	std::string name = GetText(info[1], "name");
	if (!info[2].IsFunction())
		Throw(env, RS_EINVAL, "the transition must be a function");
	TransitionCtx c{ env,
			 info[2].As<Napi::Function>(),
			 GetBool(info[3]),
			 {},
			 false,
			 Napi::Error() };
	uint64_t ver = 0;
	busy_ = true;
	int rc = rs_txn_statecell_transition(t, name.data(), name.size(), &ver,
					     TransitionCb, &c);
	busy_ = false;
	if (c.threw)
		throw c.error;
	Check(env, rc, "statecell.transition");
	return U64(env, ver);
}

Napi::Value Db::TxScDelete(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	std::string name = GetText(info[1], "name");
	bool existed = false;
	Check(env,
	      rs_txn_statecell_delete(t, name.data(), name.size(), &existed),
	      "statecell.delete");
	return Napi::Boolean::New(env, existed);
}

// txScList(gen, prefix, after, limit, vstr)
Napi::Value Db::ScListBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Bytes prefix = GetBytes(info[1], "prefix", true);
	Bytes after = GetBytes(info[2], "after", true);
	size_t limit = GetLimit(info[3]);
	Collect<CellItem> c;
	bool more = false;
	Check(env,
	      rs_txn_statecell_list(
		      t,
		      prefix.present ? static_cast<const char *>(prefix.data)
				     : nullptr,
		      prefix.len,
		      after.present ? static_cast<const char *>(after.data)
				    : nullptr,
		      after.len, limit, &more, CellCb, &c),
	      "statecell.list");
	return CellPage(env, c, more, GetBool(info[4]));
}

// txScScan(gen, start, end, resume, limit, reverse, vstr)
Napi::Value Db::ScScanBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	ScanArgs s;
	GetScan(info, 1, s);
	Collect<CellItem> c;
	bool more = false;
	Check(env, rs_txn_statecell_scan(t, &s.opts, &more, CellCb, &c),
	      "statecell.scan");
	return CellPage(env, c, more, GetBool(info[6]));
}

// txTsRecord(gen, type, payload, tags, parent) -> [index, pending handle]
Napi::Value Db::TxTsRecord(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_txn *t = TxnWrite(info);
	Bytes type = GetBytes(info[1], "type");
	Bytes payload = GetBytes(info[2], "payload", true);
	std::vector<std::string> tags = GetTags(info[3]);
	std::vector<rs_bytes> tv;
	for (const std::string &s : tags)
		tv.push_back({ s.data(), s.size() });
	uint64_t parent = GetTraceRef(info[4], "parent");
	trace_ids_.emplace_back(0);
	int rc = rs_txn_tracestore_record(
		t, static_cast<const char *>(type.data), type.len,
		payload.present ? payload.data : nullptr, payload.len,
		tv.empty() ? nullptr : tv.data(), tv.size(), parent,
		&trace_ids_.back());
	if (rc < 0) {
		trace_ids_.pop_back();
		Throw(env, rc, "tracestore.record");
	}
	Napi::Array a = Napi::Array::New(env, 2);
	a.Set(0u, Napi::Number::New(
			  env, static_cast<double>(trace_ids_.size() - 1)));
	a.Set(1u, Big(env, trace_ids_.back()));
	return a;
}

Napi::Value Db::TsGetBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t id = GetU64(info[1], "id");
	rs_trace tr;
	int rc = rs_txn_tracestore_get(t, id, &tr);
	if (rc == RS_ENOTFOUND)
		return env.Undefined();
	Check(env, rc, "tracestore.get");
	return JsTrace(env, ToTrace(&tr, 0), GetBool(info[2]), false);
}

// txTsQuery(gen, kind, a, b, cursor, limit, vstr)
Napi::Value Db::TsQueryBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	return TraceQuery(
		info, 1,
		[&](const char *s, size_t n, uint64_t *cur, size_t lim,
		    bool *more, Collect<TraceItem> *c) {
			return rs_txn_tracestore_query_by_type(
				t, s, n, cur, lim, more, TraceCb, c);
		},
		[&](const char *s, size_t n, uint64_t *cur, size_t lim,
		    bool *more, Collect<TraceItem> *c) {
			return rs_txn_tracestore_query_by_tag(t, s, n, cur, lim,
							      more, TraceCb, c);
		},
		[&](uint64_t parent, uint64_t *cur, size_t lim, bool *more,
		    Collect<TraceItem> *c) {
			return rs_txn_tracestore_children(t, parent, cur, lim,
							  more, TraceCb, c);
		},
		[&](uint64_t t0, uint64_t t1, uint64_t *cur, size_t lim,
		    bool *more, Collect<TraceItem> *c) {
			return rs_txn_tracestore_query_by_time(
				t, t0, t1, cur, lim, more, TraceCb, c);
		});
}

// txTsTree(gen, root, maxDepth, vstr)
Napi::Value Db::TsTreeBody(rs_txn *t, const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	uint64_t root = GetU64(info[1], "root");
	Collect<TraceItem> c;
	int rc = rs_txn_tracestore_get_tree(t, root, GetDepth(info[2]), TreeCb,
					    &c);
	return TreeResult(env, rc, c, GetBool(info[3]));
}

// Each read twice: one-shot (kvGet) and in a transaction (txKvGet).
template <Db::ReadBody Body>
void AddRead(std::vector<Napi::ClassPropertyDescriptor<Db>> &props,
	     const char *name, const char *tx_name)
{
	props.push_back(Db::InstanceMethod(name, &Db::OneShot<Body>));
	props.push_back(Db::InstanceMethod(tx_name, &Db::InTx<Body>));
}

Napi::Function Db::Define(Napi::Env env)
{
	std::vector<Napi::ClassPropertyDescriptor<Db>> props = {
		InstanceMethod("close", &Db::Close),
		InstanceMethod("flushAsync", &Db::FlushAsync),
		InstanceMethod("checkpointAsync", &Db::CheckpointAsync),
		InstanceMethod("stat", &Db::Stat),
		InstanceMethod("runVersion", &Db::RunVersion),
		InstanceMethod("isOpen", &Db::IsOpen),
		InstanceMethod("inTxn", &Db::InTxn),
		InstanceMethod("kvCursor", &Db::KvCursor),
		InstanceMethod("kvWrite", &Db::KvWrite),
		InstanceMethod("riGet", &Db::RiGet),
		InstanceMethod("riQuery", &Db::RiQuery),
		InstanceMethod("riCreate", &Db::RiCreate),
		InstanceMethod("riTransition", &Db::RiTransition),
		InstanceMethod("riDelete", &Db::RiDelete),
		InstanceMethod("txBegin", &Db::TxBegin),
		InstanceMethod("txCommit", &Db::TxCommit),
		InstanceMethod("txResults", &Db::TxResults),
		InstanceMethod("txAbort", &Db::TxAbort),
		InstanceMethod("txSnapshotVersion", &Db::TxSnapshotVersion),
		InstanceMethod("txKvPut", &Db::TxKvPut),
		InstanceMethod("txKvDelete", &Db::TxKvDelete),
		InstanceMethod("txKvCursor", &Db::TxKvCursor),
		InstanceMethod("txElAppend", &Db::TxElAppend),
		InstanceMethod("txScInit", &Db::TxScInit),
		InstanceMethod("txScSet", &Db::TxScSet),
		InstanceMethod("txScCas", &Db::TxScCas),
		InstanceMethod("txScTransition", &Db::TxScTransition),
		InstanceMethod("txScDelete", &Db::TxScDelete),
		InstanceMethod("txTsRecord", &Db::TxTsRecord),
	};
	AddRead<&Db::KvGetBody>(props, "kvGet", "txKvGet");
	AddRead<&Db::KvExistsBody>(props, "kvExists", "txKvExists");
	AddRead<&Db::KvGetManyBody>(props, "kvGetMany", "txKvGetMany");
	AddRead<&Db::KvListBody>(props, "kvList", "txKvList");
	AddRead<&Db::KvScanBody>(props, "kvScan", "txKvScan");
	AddRead<&Db::ElReadBody>(props, "elRead", "txElRead");
	AddRead<&Db::ElRangeBody>(props, "elRange", "txElRange");
	AddRead<&Db::ElLenBody>(props, "elLen", "txElLen");
	AddRead<&Db::ElHeadBody>(props, "elHead", "txElHead");
	AddRead<&Db::ElByTypeBody>(props, "elByType", "txElByType");
	AddRead<&Db::ElVerifyBody>(props, "elVerify", "txElVerify");
	AddRead<&Db::ScReadBody>(props, "scRead", "txScRead");
	AddRead<&Db::ScListBody>(props, "scList", "txScList");
	AddRead<&Db::ScScanBody>(props, "scScan", "txScScan");
	AddRead<&Db::TsGetBody>(props, "tsGet", "txTsGet");
	AddRead<&Db::TsQueryBody>(props, "tsQuery", "txTsQuery");
	AddRead<&Db::TsTreeBody>(props, "tsTree", "txTsTree");
	return DefineClass(env, "NativeDb", props);
}

// ---- module functions ----

// Owned copies of the open options, so that the open can run on the pool.
struct OpenArgs {
	rs_db_options o = RS_DB_OPTIONS_INIT;
	std::string path;
	bool has_path = false;
	rs_db *db = nullptr;

	int Run()
	{
		o.path = has_path ? path.c_str() : nullptr;
		return rs_db_open(&db, &o);
	}
};

uint64_t OptU64(const Napi::Object &o, const char *name)
{
	Napi::Value v = o.Get(name);
	return IsNullish(v) ? 0 : GetU64(v, name);
}

Napi::Value WrapDb(Napi::Env env, rs_db *db, rs_durability d)
{
	return Db::ctor->New({ Napi::External<rs_db>::New(env, db),
			       Napi::Number::New(env, d) });
}

// open({durability: 0|1|2, path, salvage, hashSeed, flushIntervalMs,
//       flushBatchCommits, flushBatchBytes, checkpointWalBytes,
//       segmentBytes}, async)
Napi::Value Open(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsObject())
		Throw(env, RS_EINVAL, "options must be an object");
	Napi::Object opts = info[0].As<Napi::Object>();
	auto a = std::make_shared<OpenArgs>();
	a->o.durability = static_cast<rs_durability>(
		opts.Get("durability").As<Napi::Number>().Int32Value());
	Napi::Value path = opts.Get("path");
	if (!IsNullish(path)) {
		a->path = GetText(path, "path");
		a->has_path = true;
		if (a->path.find('\0') != std::string::npos)
			Throw(env, RS_EINVAL, "path contains a NUL byte");
	}
	if (GetBool(opts.Get("salvage")))
		a->o.flags |= RS_DB_F_SALVAGE;
	a->o.hash_seed = OptU64(opts, "hashSeed");
	uint64_t fi = OptU64(opts, "flushIntervalMs");
	uint64_t fc = OptU64(opts, "flushBatchCommits");
	if (fi > UINT32_MAX || fc > UINT32_MAX)
		Throw(env, RS_EINVAL, "flush option out of range");
	a->o.flush_interval_ms = static_cast<uint32_t>(fi);
	a->o.flush_batch_commits = static_cast<uint32_t>(fc);
	a->o.flush_batch_bytes =
		static_cast<size_t>(OptU64(opts, "flushBatchBytes"));
	Napi::Value cw = opts.Get("checkpointWalBytes");
	if (cw.IsNumber() && cw.As<Napi::Number>().DoubleValue() ==
				     std::numeric_limits<double>::infinity())
		a->o.checkpoint_wal_bytes = RS_CHECKPOINT_NEVER;
	else
		a->o.checkpoint_wal_bytes = OptU64(opts, "checkpointWalBytes");
	a->o.segment_bytes = OptU64(opts, "segmentBytes");
	rs_durability d = a->o.durability;
	if (GetBool(info[1]))
		return Start(
			env, [a]() { return a->Run(); },
			[a, d](Napi::Env e) { return WrapDb(e, a->db, d); });
	Check(env, a->Run(), "open");
	return WrapDb(env, a->db, d);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo &info)
{
	if (g_error_ctor == nullptr)
		g_error_ctor = new Napi::FunctionReference();
	*g_error_ctor = Napi::Persistent(info[0].As<Napi::Function>());
	return info.Env().Undefined();
}

Napi::Value Version(const Napi::CallbackInfo &info)
{
	return Napi::String::New(info.Env(), rs_version_string());
}

Napi::Value StrError(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int rc = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value()
				    : 1;
	Napi::Object o = Napi::Object::New(env);
	o.Set("name", Napi::String::New(env, rs_errname(rc)));
	o.Set("message", Napi::String::New(env, rs_strerror(rc)));
	return o;
}

Napi::Value RunIdGenerate(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	rs_run_id id;
	Check(env, rs_run_id_generate(&id), "runId");
	return RunString(env, id);
}

Napi::Value RunIdParse(const Napi::CallbackInfo &info)
{
	return RunString(info.Env(), GetRun(info[0]));
}

Napi::Value RunIdIsNil(const Napi::CallbackInfo &info)
{
	rs_run_id id = GetRun(info[0]);
	return Napi::Boolean::New(info.Env(), rs_run_id_is_nil(&id));
}

Napi::Value TransitionAllowed(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	int from = StatusFrom(env, info[0]);
	int to = StatusFrom(env, info[1]);
	return Napi::Boolean::New(env, rs_runindex_transition_allowed(
					       static_cast<rs_run_status>(from),
					       static_cast<rs_run_status>(to)));
}

// Every C++ exception that escapes a binding call becomes a JavaScript
// exception (node-addon-api does this with NAPI_CPP_EXCEPTIONS).
Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	Db::ctor =
		new Napi::FunctionReference(Napi::Persistent(Db::Define(env)));
	Cursor::ctor = new Napi::FunctionReference(
		Napi::Persistent(Cursor::Define(env)));
	exports.Set("NativeDb", Db::ctor->Value());
	exports.Set("open", Napi::Function::New(env, Open));
	exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
	exports.Set("version", Napi::Function::New(env, Version));
	exports.Set("strerror", Napi::Function::New(env, StrError));
	exports.Set("runIdGenerate", Napi::Function::New(env, RunIdGenerate));
	exports.Set("runIdParse", Napi::Function::New(env, RunIdParse));
	exports.Set("runIdIsNil", Napi::Function::New(env, RunIdIsNil));
	exports.Set("transitionAllowed",
		    Napi::Function::New(env, TransitionAllowed));
	return exports;
}

} // namespace

NODE_API_MODULE(runstate, Init)
