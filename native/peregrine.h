/*
 * Wire format shared by the BPF program (peregrine.bpf.c), the addon (addon.c) and, through the
 * addon's exported `layout`, the TypeScript decoder (src/capture/decode.ts).
 */
#ifndef PEREGRINE_H
#define PEREGRINE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PG_F_EXEC_FAIL 1   /* only failures: a successful exec is reported by sched_process_exec */
#define PG_F_TUPLE_ARG0 2  /* blob 3 = socket tuple of the fd in arg 0 */
#define PG_F_TUPLE_RET 4   /* blob 3 = socket tuple of the fd returned */
#define PG_F_SOCKADDR1 8   /* blob 2 = user sockaddr at arg 1 (length in arg 2) */
#define PG_F_OPENHOW 16    /* blob 3 = struct open_how at arg 2 (length arg 3) */
#define PG_F_DATA1 32      /* blob 2 = up to snaplen bytes of the user buffer at arg 1 (length: the return value) */
#define PG_F_DATA_MSG 64   /* blob 2 = up to snaplen bytes of the first iovec of the user msghdr at arg 1 */

enum pg_event_type {
	PG_EVT_NONE = 0,
#define PG_SC(name, s0, s1, s2, fl) PG_EVT_##name,
#include "syscalls.def"
#undef PG_SC
	PG_EVT_CLONE,   /* sched_process_fork, in the parent (new processes only) */
	PG_EVT_EXEC,    /* sched_process_exec (successful execve/execveat) */
	PG_EVT_EXIT,    /* sched_process_exit of a thread-group leader */
	PG_EVT_CGROUP,  /* cgroup_attach_task: a process (or thread) moved to another cgroup */
	PG_EVT_MAX,
};

/*
 * Record header (136 bytes); blobs follow back to back, blob_len[i] bytes each, in slot order.
 * Blob slots: 0..2 = user strings of the args named in syscalls.def (slot 2 = sockaddr with
 * PG_F_SOCKADDR1, data bytes with PG_F_DATA1/PG_F_DATA_MSG), 3 = socket tuple / open_how;
 * 4..7 = more exec-time data (EXEC: 4 = environment, NUL-separated, up to PG_ENV_MAX bytes).
 * EXEC: 0 = bprm->filename, 1 = argv (NUL-separated), 2 = cgroup names (4 x PG_CG_NAME_MAX:
 * v1 memory parent, v1 leaf, v2 parent, v2 leaf) followed by struct pg_exec_extra, 3 = dentry name of the
 * executable file.
 * EXEC args: 0 = syscall nr, 1 = tty (dev_t, new encoding), 2 = loginuid, 3 = start_time (mono ns).
 * CLONE args: 0 = child tgid, 1 = child tid, 2 = clone flags (clone only), 3 = child start_time,
 *   4 = syscall nr, 5 = child tgid in its own pid namespace. ret = child tgid.
 * EXIT args: 0 = exit_code; ret = exit_code.
 * CGROUP args: 0 = moved tgid, 1 = moved tid, 2 = hierarchy id (0 = cgroup v2), 3 = whole thread group;
 *   blob 0 = the destination cgroup's path in its hierarchy. The header's pid/comm are the writer's.
 */
#define PG_BLOBS 8

struct pg_hdr {
	__u64 ts;        /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__s64 ret;
	__u64 args[6];
	__u32 size;      /* header + blobs (not padded) */
	__u16 type;      /* enum pg_event_type */
	__u16 flags;     /* PG_HF_* */
	__u32 pid, tid, ppid, uid, gid, loginuid;
	__u32 euid, cpu;
	char comm[16];
	__u16 blob_len[PG_BLOBS];
};

#define PG_HF_TRUNCATED 1  /* a blob hit its size cap */

/*
 * What an exec record carries after the cgroup names (blob 2): the new program's credentials as the kernel
 * committed them (after capability drops by the runtime), where its file lives, and its pid in its namespace.
 */
struct pg_exec_extra {
	__u64 cap_effective;
	__u64 cap_permitted;
	__u64 cap_inheritable;
	__u32 flags;     /* PG_EXE_* */
	__u32 vpid;      /* tgid in the task's own pid namespace */
};

#define PG_EXE_UPPER_LAYER 1  /* the executable is on an overlayfs upper layer (written in the container) */
#define PG_EXE_LOWER_LAYER 2  /* the executable is on an overlayfs lower layer (from the image) */

/* Socket tuple blob: addresses in network order, ports in host order. */
struct pg_tuple {
	__u16 family;
	__u16 type;      /* SOCK_STREAM, SOCK_DGRAM ... */
	__u16 proto;     /* IPPROTO_TCP ... */
	__u16 lport;
	__u16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

#define PG_STR_MAX 4096
#define PG_ARGV_MAX 4095
#define PG_CG_NAME_MAX 128
#define PG_SOCKADDR_MAX 112
#define PG_ENV_MAX 4095   /* Falco's modern probe keeps 4096 bytes of the environment */
#define PG_SNAPLEN 80     /* bytes of I/O data kept, Falco's default snaplen */
#define PG_NAME_MAX 256    /* a dentry name (NAME_MAX + NUL) */
#define PG_OFF_MASK 16383
#define PG_SCRATCH_SIZE (PG_OFF_MASK + 1 + PG_STR_MAX)

/* Per-CPU counters: totals, then a (sent, dropped) pair per event type. */
enum pg_stat {
	PG_ST_SENT = 0,
	PG_ST_DROP_RINGBUF_FULL = 1,  /* bpf_ringbuf_output failed: the consumer is behind */
	PG_ST_TRUNCATED = 2,          /* delivered, but a string/argv hit its cap */
	PG_ST_READ_FAILED = 3,        /* delivered, but a user-memory read failed */
	PG_ST_DROP_TOO_BIG = 4,       /* the record outgrew the scratch (cannot happen with today's caps; counted so it shows) */
	PG_ST_TYPE_BASE = 8,
	PG_ST_COUNT = PG_ST_TYPE_BASE + 2 * PG_EVT_MAX,
};

#endif
