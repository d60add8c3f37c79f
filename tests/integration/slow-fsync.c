/* slow-fsync.c: an LD_PRELOAD shim for tests that makes every fsync()
 * and fdatasync() take SLOW_FSYNC_MS (default 200) milliseconds longer,
 * so that work started while a file is being saved really overlaps the
 * save, as it can on a slow disk.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void
linger (void)
{
  const char *ms = getenv ("SLOW_FSYNC_MS");
  long delay = ms != NULL ? atol (ms) : 200;
  struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };

  nanosleep (&ts, NULL);
}

int fsync (int fd);
int fdatasync (int fd);

int
fsync (int fd)
{
  int (*real) (int) = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");

  linger ();
  return real (fd);
}

int
fdatasync (int fd)
{
  int (*real) (int) = (int (*) (int)) dlsym (RTLD_NEXT, "fdatasync");

  linger ();
  return real (fd);
}
