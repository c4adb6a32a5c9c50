/**
 * The syscall workloads the capture and end-to-end benchmarks drive: a small C program, so the
 * numbers are per syscall and not per interpreter step. Needs gcc.
 *   open    N x (openat of a file + close)
 *   getppid N x getppid() (a syscall no rule captures)
 *   exec    N x (vfork + execve /bin/true + wait)
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Workload = 'open' | 'getppid' | 'exec';

const SOURCE = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
  long n = atol(argv[2]);
  long long t0 = now();
  if (!strcmp(argv[1], "open")) {
    for (long i = 0; i < n; i++) { int fd = openat(AT_FDCWD, argv[3], O_RDONLY); if (fd >= 0) close(fd); }
  } else if (!strcmp(argv[1], "getppid")) {
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
  } else {
    for (long i = 0; i < n; i++) {
      pid_t p = vfork();
      if (p == 0) { execl("/bin/true", "true", (char *)0); _exit(127); }
      int st; waitpid(p, &st, 0);
    }
  }
  printf("%lld\\n", now() - t0);
  return 0;
}
`;

/** Compiles the workload program into `dir`; returns a runner that resolves to the loop's wall time in ns. */
export function buildWorkload(dir: string): (w: Workload, n: number, target: string) => Promise<number> {
  const src = join(dir, 'work.c');
  const bin = join(dir, 'work');
  writeFileSync(src, SOURCE);
  execFileSync('gcc', ['-O2', '-o', bin, src]);
  return (w, n, target) => new Promise((resolve, reject) => {
    const child = spawn(bin, [w, String(n), target], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`workload ${w} exited ${code}`))));
  });
}
