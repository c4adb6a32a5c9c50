/*
 * Peregrine's N-API addon: loads the BPF skeleton (only the programs asked for), attaches them, and runs
 * a poll thread that drains the ring buffer into batches. A batch (records back to back, each padded to
 * 8 bytes, the header's `size` giving the length) reaches JS as one Buffer through a thread-safe
 * function: one call across the boundary per batch, never per event.
 *
 * JS API (one capture per process):
 *   layout                                 { names: string[], headerSize, statCount, typeBase, ... }
 *   start({ selfPid, ringBytes, wakeupBytes, pollMs, batchBytes, enable: string[], onBatch(buf) })
 *        -> { attached: string[], failed: { name, error }[] }
 *   stats() -> number[] (per-CPU sums, index = enum pg_stat)
 *   clockOffset() -> bigint (CLOCK_REALTIME - CLOCK_MONOTONIC, ns)
 *   flush()  asks the poll thread to drain and deliver now
 *   lost() -> number[] (records taken off the ring but never handed to JS, by event type; index = enum pg_event_type)
 *   stop() -> Promise<void>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <node_api.h>
#include "peregrine.h"
#include "peregrine.skel.h"

static const char *const EVT_NAMES[] = {
	"none",
#define PG_SC(name, s0, s1, s2, fl) #name,
#include "syscalls.def"
#undef PG_SC
	"clone", "exec", "exit", "cgroup",
};

#define MAX_LINKS 128

struct batch {
	size_t len, cap;
	unsigned char data[];
};

static struct {
	struct peregrine_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	pthread_t thread;
	int thread_started;
	atomic_int stopping;
	atomic_int flush_req;
	napi_threadsafe_function tsfn;
	struct batch *cur;
	size_t batch_bytes;
	int poll_ms;
	char log[65536];
	size_t log_len;
	/* Records that left the ring but never reached JS (no memory, oversized, delivery refused at stop). */
	atomic_ulong lost[PG_EVT_MAX];
} G;

#define NAPI_CALL(env, call)                                                          \
	do {                                                                          \
		if ((call) != napi_ok) {                                              \
			napi_throw_error((env), NULL, "napi call failed: " #call);    \
			return NULL;                                                  \
		}                                                                     \
	} while (0)

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (G.log_len < sizeof(G.log) - 1) {
		int n = vsnprintf(G.log + G.log_len, sizeof(G.log) - G.log_len, fmt, ap);
		if (n > 0)
			G.log_len += (size_t)n;
		if (G.log_len >= sizeof(G.log))
			G.log_len = sizeof(G.log) - 1;
	}
	return 0;
}

static struct batch *batch_new(size_t cap)
{
	struct batch *b = malloc(sizeof(*b) + cap);
	if (b) {
		b->len = 0;
		b->cap = cap;
	}
	return b;
}

static void count_lost(const unsigned char *rec)
{
	const struct pg_hdr *h = (const struct pg_hdr *)rec;
	if (h->type < PG_EVT_MAX)
		atomic_fetch_add(&G.lost[h->type], 1);
}

/* A batch that will not reach JS: every record in it counts as lost. */
static void lose_batch(struct batch *b)
{
	for (size_t o = 0; o + sizeof(struct pg_hdr) <= b->len;) {
		const struct pg_hdr *h = (const struct pg_hdr *)(b->data + o);
		if (h->size < sizeof(*h))
			break;
		count_lost(b->data + o);
		o += ((size_t)h->size + 7) & ~(size_t)7;
	}
	free(b);
}

static void free_batch_cb(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)data;
	free(hint);
}

static void call_js(napi_env env, napi_value fn, void *ctx, void *data)
{
	(void)ctx;
	struct batch *b = data;
	if (!env || !fn) {
		lose_batch(b);
		return;
	}
	napi_value buf, undef, res;
	if (napi_create_external_buffer(env, b->len, b->data, free_batch_cb, b, &buf) != napi_ok) {
		void *dst;
		napi_status st = napi_create_buffer_copy(env, b->len, b->data, &dst, &buf);
		if (st != napi_ok) {
			lose_batch(b);
			return;
		}
		free(b);
	}
	napi_get_undefined(env, &undef);
	napi_call_function(env, undef, fn, 1, &buf, &res);
}

static void deliver(void)
{
	struct batch *b = G.cur;
	if (!b || b->len == 0)
		return;
	G.cur = batch_new(G.batch_bytes);
	if (napi_call_threadsafe_function(G.tsfn, b, napi_tsfn_blocking) != napi_ok)
		lose_batch(b);
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	size_t padded = (size + 7) & ~(size_t)7;
	if (size < sizeof(struct pg_hdr))
		return 0;
	if (!G.cur) {
		count_lost(data);
		return 0;
	}
	if (G.cur->len + padded > G.cur->cap) {
		deliver();
		if (!G.cur || padded > G.cur->cap) {
			count_lost(data);
			return 0;
		}
	}
	memcpy(G.cur->data + G.cur->len, data, size);
	if (padded > size)
		memset(G.cur->data + G.cur->len + size, 0, padded - size);
	G.cur->len += padded;
	return 0;
}

static void *poll_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&G.stopping)) {
		int n = ring_buffer__poll(G.rb, G.poll_ms);
		if (n < 0 && n != -EINTR)
			break;
		/* NO_WAKEUP records are not reported by epoll: drain explicitly. */
		ring_buffer__consume(G.rb);
		atomic_store(&G.flush_req, 0);
		if (atomic_load(&G.stopping))
			break;
		deliver();
	}
	return NULL;
}

static napi_value str(napi_env env, const char *s)
{
	napi_value v;
	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
	return v;
}

static int get_u64(napi_env env, napi_value obj, const char *key, uint64_t def, uint64_t *out)
{
	bool has;
	napi_value v;
	napi_valuetype t;
	*out = def;
	if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has)
		return 0;
	napi_get_named_property(env, obj, key, &v);
	napi_typeof(env, v, &t);
	if (t == napi_undefined)
		return 0;
	double d;
	if (napi_get_value_double(env, v, &d) != napi_ok)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static void *destroy_links(void *arg)
{
	long k = (long)arg;
	for (int i = (int)k; i < G.nlinks; i += 16)
		bpf_link__destroy(G.links[i]);
	return NULL;
}

static void cleanup(void)
{
	/* Each detach waits for an RCU grace period: detach in parallel so they overlap. */
	pthread_t th[16];
	int started[16] = { 0 };
	for (long k = 0; k < 16 && k < G.nlinks; k++)
		started[k] = pthread_create(&th[k], NULL, destroy_links, (void *)k) == 0;
	for (long k = 0; k < 16 && k < G.nlinks; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			destroy_links((void *)k);
	}
	G.nlinks = 0;
	if (G.rb)
		ring_buffer__free(G.rb);
	G.rb = NULL;
	if (G.skel)
		peregrine_bpf__destroy(G.skel);
	G.skel = NULL;
	free(G.cur);
	G.cur = NULL;
}

static napi_value js_start(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], opts, enable, on_batch;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1) {
		napi_throw_type_error(env, NULL, "start(opts) needs an options object");
		return NULL;
	}
	if (G.skel) {
		napi_throw_error(env, NULL, "capture already started in this process");
		return NULL;
	}
	opts = argv[0];
	for (int i = 0; i < PG_EVT_MAX; i++)
		atomic_store(&G.lost[i], 0);
	uint64_t self_pid, ring_bytes, wakeup_bytes, poll_ms, batch_bytes;
	get_u64(env, opts, "selfPid", (uint64_t)getpid(), &self_pid);
	get_u64(env, opts, "ringBytes", 8u << 20, &ring_bytes);
	get_u64(env, opts, "wakeupBytes", 256u << 10, &wakeup_bytes);
	get_u64(env, opts, "pollMs", 20, &poll_ms);
	get_u64(env, opts, "batchBytes", 512u << 10, &batch_bytes);
	NAPI_CALL(env, napi_get_named_property(env, opts, "enable", &enable));
	NAPI_CALL(env, napi_get_named_property(env, opts, "onBatch", &on_batch));

	/* ring size: power of two, page multiple */
	uint64_t rs = 4096;
	while (rs < ring_bytes && rs < (1ull << 30))
		rs <<= 1;

	/* Per-syscall tracepoints are found through tracefs: mount it when nobody has. */
	bool tracefs_mounted = false;
	if (access("/sys/kernel/tracing/events/syscalls", F_OK) != 0 &&
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) != 0) {
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
			tracefs_mounted = true;
	}
	G.log_len = 0;
	G.log[0] = 0;
	libbpf_set_print(libbpf_log);
	/* The verifier gives up with EAGAIN when a signal is pending (profilers, timers): retry a few times. */
	int err = 0;
	for (int attempt = 0; attempt < 8; attempt++) {
		G.skel = peregrine_bpf__open();
		if (!G.skel) {
			char msg[66000];
			snprintf(msg, sizeof(msg), "opening the BPF object failed: %s %s", strerror(errno), G.log);
			napi_throw_error(env, "PRG_CAPTURE_OPEN", msg);
			return NULL;
		}
		G.skel->rodata->self_tgid = (__u32)self_pid;
		G.skel->rodata->wakeup_bytes = wakeup_bytes;
		bpf_map__set_max_entries(G.skel->maps.rb, (__u32)rs);

		/* Which syscall programs: enable[] holds syscall names (sc_<name>); the sched_* ones always load. */
		uint32_t n_enable = 0;
		napi_get_array_length(env, enable, &n_enable);
		struct bpf_program *prog;
		bpf_object__for_each_program(prog, G.skel->obj) {
			const char *pn = bpf_program__name(prog);
			if (strncmp(pn, "sc_", 3) != 0)
				continue;
			bool want = false;
			for (uint32_t i = 0; i < n_enable && !want; i++) {
				napi_value e;
				char name[64];
				size_t l;
				napi_get_element(env, enable, i, &e);
				if (napi_get_value_string_utf8(env, e, name, sizeof(name), &l) == napi_ok && strcmp(name, pn + 3) == 0)
					want = true;
			}
			bpf_program__set_autoload(prog, want);
		}
		G.log_len = 0;
		G.log[0] = 0;
		/* Block signals while the verifier runs so a profiler's timer cannot abort it. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		err = peregrine_bpf__load(G.skel);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err != -EAGAIN)
			break;
		peregrine_bpf__destroy(G.skel);
		G.skel = NULL;
		usleep(2000);
	}
	if (err) {
		char msg[66000];
		snprintf(msg, sizeof(msg), "loading the BPF programs failed (%s): %s", strerror(-err), G.log);
		cleanup();
		napi_throw_error(env, "PRG_CAPTURE_LOAD", msg);
		return NULL;
	}

	struct bpf_program *prog;
	napi_value result, attached, failed;
	napi_create_object(env, &result);
	napi_create_array(env, &attached);
	napi_create_array(env, &failed);
	uint32_t na = 0, nf = 0;
	bpf_object__for_each_program(prog, G.skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		const char *pn = bpf_program__name(prog);
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l || G.nlinks >= MAX_LINKS) {
			int e = errno;
			if (l)
				bpf_link__destroy(l);
			napi_value f;
			napi_create_object(env, &f);
			napi_set_named_property(env, f, "name", str(env, pn));
			napi_set_named_property(env, f, "error", str(env, strerror(e)));
			napi_set_element(env, failed, nf++, f);
			continue;
		}
		G.links[G.nlinks++] = l;
		napi_set_element(env, attached, na++, str(env, pn));
	}
	napi_set_named_property(env, result, "attached", attached);
	napi_set_named_property(env, result, "failed", failed);
	napi_value tm;
	napi_get_boolean(env, tracefs_mounted, &tm);
	napi_set_named_property(env, result, "tracefsMounted", tm);

	G.rb = ring_buffer__new(bpf_map__fd(G.skel->maps.rb), on_record, NULL, NULL);
	if (!G.rb) {
		cleanup();
		napi_throw_error(env, "PRG_CAPTURE_RINGBUF", "ring_buffer__new failed");
		return NULL;
	}
	G.batch_bytes = batch_bytes < 65536 ? 65536 : batch_bytes;
	G.poll_ms = (int)(poll_ms ? poll_ms : 20);
	G.cur = batch_new(G.batch_bytes);
	if (napi_create_threadsafe_function(env, on_batch, NULL, str(env, "peregrine-capture"), 16, 1, NULL, NULL, NULL,
					    call_js, &G.tsfn) != napi_ok) {
		cleanup();
		napi_throw_error(env, NULL, "napi_create_threadsafe_function failed");
		return NULL;
	}
	napi_unref_threadsafe_function(env, G.tsfn);
	atomic_store(&G.stopping, 0);
	if (pthread_create(&G.thread, NULL, poll_thread, NULL) != 0) {
		napi_release_threadsafe_function(G.tsfn, napi_tsfn_abort);
		cleanup();
		napi_throw_error(env, NULL, "pthread_create failed");
		return NULL;
	}
	G.thread_started = 1;
	return result;
}

struct stop_work {
	napi_async_work work;
	napi_deferred deferred;
};

static void stop_execute(napi_env env, void *data)
{
	(void)env;
	(void)data;
	if (G.thread_started) {
		pthread_join(G.thread, NULL);
		G.thread_started = 0;
	}
	cleanup();
}

static void stop_complete(napi_env env, napi_status status, void *data)
{
	struct stop_work *w = data;
	napi_value u;
	napi_get_undefined(env, &u);
	napi_resolve_deferred(env, w->deferred, u);
	napi_delete_async_work(env, w->work);
	free(w);
}

/* stop() -> Promise: detaching the programs takes RCU grace periods, so it runs off the JS thread. */
static napi_value js_stop(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value promise;
	struct stop_work *w = calloc(1, sizeof(*w));
	NAPI_CALL(env, napi_create_promise(env, &w->deferred, &promise));
	if (G.thread_started) {
		atomic_store(&G.stopping, 1);
		/* The poll thread may be blocked on a full TSFN queue: abort releases it. */
		napi_release_threadsafe_function(G.tsfn, napi_tsfn_abort);
	}
	napi_value name;
	napi_create_string_utf8(env, "peregrine-capture-stop", NAPI_AUTO_LENGTH, &name);
	NAPI_CALL(env, napi_create_async_work(env, NULL, name, stop_execute, stop_complete, w, &w->work));
	NAPI_CALL(env, napi_queue_async_work(env, w->work));
	return promise;
}

static napi_value js_stats(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr;
	NAPI_CALL(env, napi_create_array_with_length(env, PG_ST_COUNT, &arr));
	if (!G.skel)
		return arr;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return arr;
	__u64 *vals = calloc((size_t)ncpu, sizeof(__u64));
	int fd = bpf_map__fd(G.skel->maps.stats);
	__u64 *all = calloc((size_t)ncpu * PG_ST_COUNT, sizeof(__u64));
	__u32 zero = 0;
	int ok = all && bpf_map_lookup_elem(fd, &zero, all) == 0;
	for (__u32 k = 0; k < PG_ST_COUNT; k++) {
		double sum = 0;
		if (ok)
			for (int c = 0; c < ncpu; c++)
				sum += (double)all[(size_t)c * PG_ST_COUNT + k];
		napi_value v;
		napi_create_double(env, sum, &v);
		napi_set_element(env, arr, k, v);
	}
	free(vals);
	free(all);
	return arr;
}

static napi_value js_lost(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value arr, v;
	NAPI_CALL(env, napi_create_array_with_length(env, PG_EVT_MAX, &arr));
	for (uint32_t i = 0; i < PG_EVT_MAX; i++) {
		napi_create_double(env, (double)atomic_load(&G.lost[i]), &v);
		napi_set_element(env, arr, i, v);
	}
	return arr;
}

static napi_value js_clock_offset(napi_env env, napi_callback_info info)
{
	(void)info;
	/* Bracket the realtime read with two monotonic reads and take the midpoint. */
	struct timespec m1, r, m2;
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	int64_t mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec + (int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2;
	int64_t real = (int64_t)r.tv_sec * 1000000000 + r.tv_nsec;
	napi_value v;
	napi_create_bigint_int64(env, real - mono, &v);
	return v;
}

static napi_value js_flush(napi_env env, napi_callback_info info)
{
	(void)info;
	atomic_store(&G.flush_req, 1);
	napi_value u;
	napi_get_undefined(env, &u);
	return u;
}

static void set_num(napi_env env, napi_value obj, const char *k, double n)
{
	napi_value v;
	napi_create_double(env, n, &v);
	napi_set_named_property(env, obj, k, v);
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_value layout, names, fn;
	napi_create_object(env, &layout);
	napi_create_array(env, &names);
	for (uint32_t i = 0; i < PG_EVT_MAX; i++)
		napi_set_element(env, names, i, str(env, EVT_NAMES[i]));
	napi_set_named_property(env, layout, "names", names);
	set_num(env, layout, "headerSize", sizeof(struct pg_hdr));
	set_num(env, layout, "statCount", PG_ST_COUNT);
	set_num(env, layout, "typeBase", PG_ST_TYPE_BASE);
	set_num(env, layout, "cgNameMax", PG_CG_NAME_MAX);
	set_num(env, layout, "tupleSize", sizeof(struct pg_tuple));
	set_num(env, layout, "offTs", __builtin_offsetof(struct pg_hdr, ts));
	set_num(env, layout, "offRet", __builtin_offsetof(struct pg_hdr, ret));
	set_num(env, layout, "offArgs", __builtin_offsetof(struct pg_hdr, args));
	set_num(env, layout, "offSize", __builtin_offsetof(struct pg_hdr, size));
	set_num(env, layout, "offType", __builtin_offsetof(struct pg_hdr, type));
	set_num(env, layout, "offFlags", __builtin_offsetof(struct pg_hdr, flags));
	set_num(env, layout, "offPid", __builtin_offsetof(struct pg_hdr, pid));
	set_num(env, layout, "offComm", __builtin_offsetof(struct pg_hdr, comm));
	set_num(env, layout, "offBlobLen", __builtin_offsetof(struct pg_hdr, blob_len));
	napi_set_named_property(env, exports, "layout", layout);

	struct { const char *name; napi_callback cb; } fns[] = {
		{ "start", js_start }, { "stop", js_stop }, { "stats", js_stats },
		{ "clockOffset", js_clock_offset }, { "flush", js_flush }, { "lost", js_lost },
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
		napi_set_named_property(env, exports, fns[i].name, fn);
	}
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
