/*
 * ahc-release-pages.node: a Node-API addon with one function, releaseStartupPages(), that drops
 * from this process's resident set the pages of the node executable it no longer uses
 * (docs/design.md, "Memory: the node binary's start-up pages").
 *
 * Starting node and its worker threads reads far more of the 120 MiB executable than the daemon
 * needs afterwards: the start-up snapshots, the bootstrap code, the embedded sources and code
 * cache of Node's own modules. Those pages stay mapped, and counted in RSS, for the process's
 * life. madvise(MADV_DONTNEED) on a private file mapping that holds no private copy of a page
 * only unmaps its pages: they stay in the page cache, and a page used again is mapped again by
 * a minor fault, from the same file contents. So this changes what the process holds, never
 * what it reads.
 *
 * A mapping is released only when it is the executable's, not writable, and smaps says it holds
 * no anonymous (copied-on-write) page: for a relocated read-only segment (RELRO), or a text
 * segment someone patched, MADV_DONTNEED would bring back the file's original bytes. Such a
 * mapping is skipped, and so is every mapping when a line of smaps is not in its format.
 *
 * The Node-API declarations below are the documented, ABI-stable C signatures (node_api.h); the
 * symbols are resolved from the node executable when it loads the addon.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
#define NAPI_AUTO_LENGTH SIZE_MAX

extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_create_object(napi_env, napi_value *);
extern napi_status napi_create_double(napi_env, double, napi_value *);
extern napi_status napi_throw_error(napi_env, const char *, const char *);

#define MAX_RANGES 64

struct range {
  uintptr_t start, end;
  long rss_kib;
};

struct outcome {
  struct range released[MAX_RANGES];
  int n_released;
  int n_skipped;    /* the executable's mappings left alone: writable or holding private copies */
  long skipped_kib; /* their resident size */
  char error[256];
};

/* One mapping of /proc/self/smaps while its lines are read. */
struct mapping {
  uintptr_t start, end;
  int ours;     /* the executable's, not writable */
  int writable; /* the executable's, writable (.data, .bss) */
  long rss_kib, anon_kib, locked_kib;
  int saw_anon; /* a kernel that does not say how many pages are private copies: never released */
};

static void settle(struct mapping *m, struct outcome *o) {
  if (!m->ours && !m->writable) return;
  if (m->ours && m->saw_anon && m->anon_kib == 0 && m->locked_kib == 0 && o->n_released < MAX_RANGES) {
    if (m->rss_kib > 0) o->released[o->n_released++] = (struct range){m->start, m->end, m->rss_kib};
  } else {
    o->n_skipped++;
    o->skipped_kib += m->rss_kib;
  }
}

/* Reads /proc/self/smaps into `o` (no madvise while it is open). Returns 0, or -1 with o->error. */
static int survey(struct outcome *o) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) {
    snprintf(o->error, sizeof o->error, "readlink /proc/self/exe: %s", strerror(errno));
    return -1;
  }
  exe[n] = '\0';
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) {
    snprintf(o->error, sizeof o->error, "cannot read /proc/self/smaps: %s", strerror(errno));
    return -1;
  }
  struct mapping m = {0};
  char *line = NULL;
  size_t cap = 0;
  int bad_line = 0;
  while (getline(&line, &cap, f) >= 0) {
    unsigned long start, end;
    char perms[8];
    int path_at = 0;
    /* A mapping's first line starts with its address in lowercase hex; its field lines
     * ("Rss:", "VmFlags:", ...) with a capital. A first line that does not parse stops the
     * survey: its fields would otherwise be counted for the mapping before it. */
    if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
      if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) != 3 || path_at == 0) {
        bad_line = 1;
        break;
      }
      settle(&m, o);
      char *path = line + path_at;
      path[strcspn(path, "\n")] = '\0';
      int exe_mapping = strcmp(path, exe) == 0;
      m = (struct mapping){.start = start, .end = end, .ours = exe_mapping && perms[1] != 'w', .writable = exe_mapping && perms[1] == 'w'};
      continue;
    }
    long kib;
    if (sscanf(line, "Rss: %ld kB", &kib) == 1) {
      m.rss_kib = kib;
    } else if (sscanf(line, "Anonymous: %ld kB", &kib) == 1) {
      m.anon_kib = kib;
      m.saw_anon = 1;
    } else if (sscanf(line, "Locked: %ld kB", &kib) == 1) {
      m.locked_kib = kib;
    }
  }
  if (!bad_line) settle(&m, o);
  free(line);
  int failed = ferror(f);
  fclose(f);
  if (failed || bad_line) {
    snprintf(o->error, sizeof o->error, bad_line ? "a line of /proc/self/smaps that is not in its format" : "error reading /proc/self/smaps");
    return -1;
  }
  return 0;
}

static napi_value number(napi_env env, double v) {
  napi_value out = NULL;
  napi_create_double(env, v, &out);
  return out;
}

/* releaseStartupPages(): { releasedKiB, mappings, skipped, skippedKiB }; throws on failure. */
static napi_value release_startup_pages(napi_env env, napi_callback_info info) {
  (void)info;
  struct outcome *o = calloc(1, sizeof *o);
  if (o == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  long released_kib = 0;
  if (survey(o) == 0) {
    for (int i = 0; i < o->n_released; i++) {
      if (madvise((void *)o->released[i].start, o->released[i].end - o->released[i].start, MADV_DONTNEED) != 0) {
        snprintf(o->error, sizeof o->error, "madvise(%#lx, %lu KiB, MADV_DONTNEED): %s", (unsigned long)o->released[i].start,
                 (unsigned long)((o->released[i].end - o->released[i].start) >> 10), strerror(errno));
        break;
      }
      released_kib += o->released[i].rss_kib;
    }
  }
  if (o->error[0] != '\0') {
    napi_throw_error(env, NULL, o->error);
    free(o);
    return NULL;
  }
  napi_value result = NULL;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "releasedKiB", number(env, (double)released_kib));
  napi_set_named_property(env, result, "mappings", number(env, o->n_released));
  napi_set_named_property(env, result, "skipped", number(env, o->n_skipped));
  napi_set_named_property(env, result, "skippedKiB", number(env, (double)o->skipped_kib));
  free(o);
  return result;
}

/* Node-API's entry point: what NAPI_MODULE_INIT() defines. */
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn = NULL;
  if (napi_create_function(env, "releaseStartupPages", NAPI_AUTO_LENGTH, release_startup_pages, NULL, &fn) != 0 ||
      napi_set_named_property(env, exports, "releaseStartupPages", fn) != 0)
    return NULL;
  return exports;
}
