// SPDX-License-Identifier: GPL-2.0
/*
 * Peregrine's kernel side: one sys_exit tracepoint program per captured syscall (loaded only when the rules or the
 * state tracking need it), plus sched_process_{fork,exec,exit} for the process table. Every event is
 * built in a per-CPU scratch and copied into one shared BPF ring buffer with a fill-threshold wakeup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "peregrine.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u32 self_tgid = 0;
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} rb SEC(".maps");

struct scratch {
	__u8 buf[PG_SCRATCH_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct pg_stats {
	__u64 v[PG_ST_COUNT];
};

/* One element per CPU holding every counter (enum pg_stat): one lookup per event. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_stats);
} stats SEC(".maps");

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

static __always_inline void stat_add(__u32 idx)
{
	__u32 zero = 0;
	struct pg_stats *st = bpf_map_lookup_elem(&stats, &zero);
	if (st && idx < PG_ST_COUNT)
		st->v[idx] += 1;
}

static __always_inline void stat_add2(__u32 a, __u32 b)
{
	__u32 zero = 0;
	struct pg_stats *st = bpf_map_lookup_elem(&stats, &zero);
	if (!st)
		return;
	if (a < PG_ST_COUNT)
		st->v[a] += 1;
	if (b < PG_ST_COUNT)
		st->v[b] += 1;
}

static __always_inline struct pg_hdr *begin(__u16 type)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	struct pg_hdr *h = (struct pg_hdr *)s->buf;
	/* A BTF task pointer: field loads below are plain (fault-checked) loads, not helper calls. */
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pt = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	h->ts = bpf_ktime_get_ns();
	h->ret = 0;
	h->size = sizeof(*h);
	h->type = type;
	h->flags = 0;
	h->pid = pt >> 32;
	h->tid = (__u32)pt;
	h->ppid = task->real_parent->tgid;
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->loginuid = task->loginuid.val;
	h->euid = task->cred->euid.val;
	h->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	for (int i = 0; i < PG_BLOBS; i++)
		h->blob_len[i] = 0;
	return h;
}

static __always_inline void finish(struct pg_hdr *h, const __u32 type)
{
	__u32 size = h->size;
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (size > PG_OFF_MASK) {
		stat_add2(PG_ST_DROP_TOO_BIG, PG_ST_TYPE_BASE + 2 * type + 1);
		return;
	}
	asm volatile("%0 &= 0x3fff" : "+r"(size));
	if (bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&rb, h, size, flags) == 0) {
		stat_add2(PG_ST_SENT, PG_ST_TYPE_BASE + 2 * type);
		if (h->flags & PG_HF_TRUNCATED)
			stat_add(PG_ST_TRUNCATED);
	} else {
		stat_add2(PG_ST_DROP_RINGBUF_FULL, PG_ST_TYPE_BASE + 2 * type + 1);
	}
}

/* Appends a user (or kernel) NUL-terminated string into blob slot `slot`. */
static __always_inline void put_str(struct pg_hdr *h, int slot, const void *p, int user)
{
	__u8 *base = (__u8 *)h;
	__u32 off = h->size & PG_OFF_MASK;
	long n;
	if (!p)
		return;
	if (user)
		n = bpf_probe_read_user_str(base + off, PG_STR_MAX, p);
	else
		n = bpf_probe_read_kernel_str(base + off, PG_STR_MAX, p);
	if (n < 0) {
		stat_add(PG_ST_READ_FAILED);
		return;
	}
	if (n >= PG_STR_MAX)
		h->flags |= PG_HF_TRUNCATED;
	h->blob_len[slot & 3] = n;
	h->size += n;
}

/* A kernel dentry name (at most PG_NAME_MAX bytes) into blob slot `slot`: keeps an exec record within the scratch. */
static __always_inline void put_name(struct pg_hdr *h, int slot, const void *p)
{
	__u32 off = h->size & PG_OFF_MASK;
	if (!p)
		return;
	long n = bpf_probe_read_kernel_str((__u8 *)h + off, PG_NAME_MAX, p);
	if (n < 0) {
		stat_add(PG_ST_READ_FAILED);
		return;
	}
	h->blob_len[slot & 3] = n;
	h->size += n;
}

static __always_inline void put_user_bytes(struct pg_hdr *h, int slot, const void *p, __u32 len, __u32 max)
{
	__u8 *base = (__u8 *)h;
	__u32 off = h->size & PG_OFF_MASK;
	if (!p || len == 0)
		return;
	if (len > max)
		len = max;
	asm volatile("%0 &= 0x1ff" : "+r"(len));
	if (len == 0)
		return;
	if (bpf_probe_read_user(base + off, len, p) < 0) {
		stat_add(PG_ST_READ_FAILED);
		return;
	}
	h->blob_len[slot & 3] = len;
	h->size += len;
}

static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = 0;
	if (fd < 0 || fd >= max)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void put_tuple(struct pg_hdr *h, long fd)
{
	struct file *f = fd_file(fd);
	if (!f)
		return;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	__u32 off = h->size & PG_OFF_MASK;
	struct pg_tuple *t = (struct pg_tuple *)((__u8 *)h + off);
	__builtin_memset(t, 0, sizeof(*t));
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->type = BPF_CORE_READ(sk, sk_type);
	t->proto = BPF_CORE_READ(sk, sk_protocol);
	if (t->family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
	} else if (t->family == AF_INET6) {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr);
	}
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	h->blob_len[3] = sizeof(*t);
	h->size += sizeof(*t);
}

/* The first iovec of a user msghdr (recvmsg/sendmsg), up to `ret` and the snaplen, into blob slot 2. */
static __always_inline void put_msg_data(struct pg_hdr *h, const void *umsg, __u32 ret)
{
	struct user_msghdr m;
	struct iovec iov;
	if (!umsg || bpf_probe_read_user(&m, sizeof(m), umsg) < 0 || !m.msg_iov || m.msg_iovlen == 0)
		return;
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov) < 0)
		return;
	__u32 len = iov.iov_len < ret ? (__u32)iov.iov_len : ret;
	put_user_bytes(h, 2, iov.iov_base, len, PG_SNAPLEN);
}

/*
 * A range of the task's user memory (mm's argv or environment) into blob `slot`, at most `max` (< 4096) bytes;
 * a longer range is cut and the event flagged truncated.
 */
static __always_inline void put_user_range(struct pg_hdr *h, int slot, unsigned long start, unsigned long end, __u32 max)
{
	__u32 len = end > start ? end - start : 0;
	if (len > max) {
		len = max;
		h->flags |= PG_HF_TRUNCATED;
	}
	asm volatile("%0 &= 0xfff" : "+r"(len));
	__u32 off = h->size & PG_OFF_MASK;
	if (len > 0 && bpf_probe_read_user((__u8 *)h + off, len, (const void *)start) == 0) {
		h->blob_len[slot & 7] = len;
		h->size += len;
	}
}

/*
 * The new program's environment (mm->env_start..env_end, NUL-separated) into blob slot 4, bounded like Falco's
 * modern probe; proc.env reads it.
 */
static __always_inline void put_env(struct pg_hdr *h, struct task_struct *task)
{
	put_user_range(h, 4, BPF_CORE_READ(task, mm, env_start), BPF_CORE_READ(task, mm, env_end), PG_ENV_MAX);
}

static __always_inline int is_self(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

static __always_inline __u64 regarg(const struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}

static __always_inline int emit_sc(__u16 type, const struct pt_regs *regs, long ret, int s0, int s1, int s2, int fl)
{
	if (is_self())
		return 0;
	if ((fl & PG_F_EXEC_FAIL) && ret >= 0)
		return 0;
	struct pg_hdr *h = begin(type);
	if (!h)
		return 0;
	h->ret = ret;
	h->args[0] = regs->di;
	h->args[1] = regs->si;
	h->args[2] = regs->dx;
	h->args[3] = regs->r10;
	h->args[4] = regs->r8;
	h->args[5] = regs->r9;
	if (s0 >= 0)
		put_str(h, 0, (const void *)h->args[s0 < 0 ? 0 : s0], 1);
	if (s1 >= 0)
		put_str(h, 1, (const void *)h->args[s1 < 0 ? 0 : s1], 1);
	if (s2 >= 0)
		put_str(h, 2, (const void *)h->args[s2 < 0 ? 0 : s2], 1);
	if (fl & PG_F_SOCKADDR1)
		put_user_bytes(h, 2, (const void *)h->args[1], (__u32)h->args[2], PG_SOCKADDR_MAX);
	if (fl & PG_F_OPENHOW)
		put_user_bytes(h, 3, (const void *)h->args[2], 24, 24);
	if ((fl & PG_F_DATA1) && ret > 0)
		put_user_bytes(h, 2, (const void *)h->args[1], (__u32)ret, PG_SNAPLEN);
	if ((fl & PG_F_DATA_MSG) && ret > 0)
		put_msg_data(h, (const void *)h->args[1], (__u32)ret);
	if (fl & PG_F_TUPLE_ARG0)
		put_tuple(h, (long)h->args[0]);
	if ((fl & PG_F_TUPLE_RET) && ret >= 0)
		put_tuple(h, ret);
	finish(h, type);
	return 0;
}

/*
 * One program per syscall on its syscalls/sys_exit_<name> tracepoint, loaded and attached only when
 * asked for. (fexit/kretprobe would avoid the syscall slow path, but the dev kernel refuses every
 * trampoline program at load with EPERM and has no kprobes: findings in bench/capture.ts.) The
 * syscall's arguments are still in the task's user pt_regs at exit; the tracepoint record gives
 * the return value.
 */
struct pg_sys_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

#define PG_SC(name, s0, s1, s2, fl)                                                  \
	SEC("tp/syscalls/sys_exit_" #name)                                           \
	int sc_##name(struct pg_sys_exit_ctx *ctx)                                   \
	{                                                                            \
		struct task_struct *t = bpf_get_current_task_btf();                  \
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);        \
		return emit_sc(PG_EVT_##name, regs, ctx->ret, s0, s1, s2, fl);       \
	}
#include "syscalls.def"
#undef PG_SC

static __always_inline void put_cg_name(struct pg_hdr *h, __u32 base, int i, struct kernfs_node *kn)
{
	__u8 *p = (__u8 *)h + ((base + i * PG_CG_NAME_MAX) & PG_OFF_MASK);
	const char *name = BPF_CORE_READ(kn, name);
	p[0] = 0;
	if (name)
		bpf_probe_read_kernel_str(p, PG_CG_NAME_MAX, name);
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	/* 6.15+ renamed kernfs_node::parent to __parent */
	struct kernfs_node___old { struct kernfs_node *parent; } __attribute__((preserve_access_index));
	struct kernfs_node___new { struct kernfs_node *__parent; } __attribute__((preserve_access_index));
	if (bpf_core_field_exists(((struct kernfs_node___new *)0)->__parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

#define PG_OVERLAYFS_SUPER_MAGIC 0x794c7630

/*
 * Which overlayfs layer a file is on. overlayfs keeps its inode inside struct ovl_inode, with the upper dentry
 * pointer right after the embedded VFS inode; overlayfs is often a module (no CO-RE type in vmlinux), so the
 * offset is the kernel's struct inode size, known at load. A non-overlay file has neither flag.
 */
static __always_inline __u32 overlay_layer(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	if (!d || BPF_CORE_READ(d, d_sb, s_magic) != PG_OVERLAYFS_SUPER_MAGIC)
		return 0;
	struct inode *ino = BPF_CORE_READ(d, d_inode);
	unsigned long inode_size = bpf_core_type_size(struct inode);
	struct dentry *upper = 0;
	if (!ino || !inode_size)
		return PG_EXE_LOWER_LAYER;
	bpf_probe_read_kernel(&upper, sizeof(upper), (char *)ino + inode_size);
	if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
		return PG_EXE_UPPER_LAYER;
	return PG_EXE_LOWER_LAYER;
}

/* The task's tgid as its own pid namespace numbers it (1 for a container's init). */
static __always_inline __u32 ns_tgid(struct task_struct *t)
{
	struct task_struct *leader = BPF_CORE_READ(t, group_leader);
	struct pid *p = BPF_CORE_READ(leader, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	int nr = 0;
	if (!p)
		return 0;
	bpf_probe_read_kernel(&nr, sizeof(nr), &p->numbers[level & 31].nr);
	return nr;
}

/*
 * kernel_cap_t is one u64 since 6.3 and two u32 (low word first) before: 8 raw bytes are the same mask in both.
 */
static __always_inline __u64 cap_mask(const void *cap)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), cap);
	return v;
}

/* Appends struct pg_exec_extra to the exec record at offset `off` (inside blob 2, after the cgroup names). */
static __always_inline void put_exec_extra(struct pg_hdr *h, __u32 off, struct task_struct *task, struct file *exe)
{
	struct pg_exec_extra *x = (struct pg_exec_extra *)((__u8 *)h + (off & PG_OFF_MASK));
	const struct cred *cred = BPF_CORE_READ(task, cred);
	x->cap_effective = cap_mask(&cred->cap_effective);
	x->cap_permitted = cap_mask(&cred->cap_permitted);
	x->cap_inheritable = cap_mask(&cred->cap_inheritable);
	x->flags = exe ? overlay_layer(exe) : 0;
	x->vpid = ns_tgid(task);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (is_self())
		return 0;
	struct pg_hdr *h = begin(PG_EVT_EXEC);
	if (!h)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	h->args[0] = BPF_CORE_READ(regs, orig_ax);
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	/* The scratch header is reused per CPU: without a tty, args[1] must not keep the last event's value. */
	h->args[1] = 0;
	if (tty) {
		__u32 major = BPF_CORE_READ(tty, driver, major);
		__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
		h->args[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	}
	h->args[2] = BPF_CORE_READ(task, loginuid.val);
	h->args[3] = BPF_CORE_READ(task, start_time);
	put_str(h, 0, BPF_CORE_READ(bprm, filename), 0);

	/* argv: one copy of mm->arg_start..arg_end */
	put_user_range(h, 1, BPF_CORE_READ(task, mm, arg_start), BPF_CORE_READ(task, mm, arg_end), PG_ARGV_MAX);

	/* cgroup names: v1 memory hierarchy (parent, leaf), v2 (parent, leaf) */
	__u32 off = h->size;
	int mem_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css = 0;
	if (mem_id >= 0 && mem_id < CGROUP_SUBSYS_COUNT)
		bpf_core_read(&css, sizeof(css), &cs->subsys[mem_id]);
	struct cgroup *cg1 = css ? BPF_CORE_READ(css, cgroup) : 0;
	struct cgroup *cg2 = BPF_CORE_READ(cs, dfl_cgrp);
	struct kernfs_node *k1 = cg1 ? BPF_CORE_READ(cg1, kn) : 0;
	struct kernfs_node *k2 = cg2 ? BPF_CORE_READ(cg2, kn) : 0;
	put_cg_name(h, off, 0, k1 ? kn_parent(k1) : 0);
	put_cg_name(h, off, 1, k1);
	put_cg_name(h, off, 2, k2 ? kn_parent(k2) : 0);
	put_cg_name(h, off, 3, k2);
	struct file *exe = BPF_CORE_READ(bprm, file);
	put_exec_extra(h, off + 4 * PG_CG_NAME_MAX, task, exe);
	h->blob_len[2] = 4 * PG_CG_NAME_MAX + sizeof(struct pg_exec_extra);
	h->size += 4 * PG_CG_NAME_MAX + sizeof(struct pg_exec_extra);

	put_name(h, 3, BPF_CORE_READ(exe, f_path.dentry, d_name.name));
	put_env(h, task);
	finish(h, PG_EVT_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == BPF_CORE_READ(parent, tgid))
		return 0; /* a new thread, not a process */
	struct pg_hdr *h = begin(PG_EVT_CLONE);
	if (!h)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	h->ret = ctgid;
	h->args[0] = ctgid;
	h->args[1] = BPF_CORE_READ(child, pid);
	h->args[4] = BPF_CORE_READ(regs, orig_ax);
	if (h->args[4] == 56)
		h->args[2] = BPF_CORE_READ(regs, di);
	h->args[3] = BPF_CORE_READ(child, start_time);
	h->args[5] = ns_tgid(child);
	finish(h, PG_EVT_CLONE);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	if (is_self())
		return 0;
	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;
	struct pg_hdr *h = begin(PG_EVT_EXIT);
	if (!h)
		return 0;
	int code = BPF_CORE_READ(p, exit_code);
	h->ret = code;
	h->args[0] = code;
	finish(h, PG_EVT_EXIT);
	return 0;
}

/*
 * A process moved to another cgroup (a runtime writing its pid to cgroup.procs after fork, before or without an
 * exec): user space re-derives the container id from the new path. Fires once per move, with the leader when
 * the whole thread group moves; the path is valid only during the call, so it is copied here.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(on_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	__u32 tgid = task->tgid;
	if (tgid == self_tgid)
		return 0;
	struct pg_hdr *h = begin(PG_EVT_CGROUP);
	if (!h)
		return 0;
	h->args[0] = tgid;
	h->args[1] = task->pid;
	h->args[2] = BPF_CORE_READ(dst, root, hierarchy_id);
	h->args[3] = threadgroup;
	h->args[4] = h->args[5] = 0;
	put_str(h, 0, path, 0);
	finish(h, PG_EVT_CGROUP);
	return 0;
}
