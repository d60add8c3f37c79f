/* fake-mx.c: an LD_PRELOAD shim for tests that answers DNS queries from a
 * table instead of the network, so that the daemon's MX lookups of
 * custom domains (GIO's threaded GResolver) can be tested offline.
 *
 *   FAKE_MX="example.org=mx01.mail.icloud.com,mx02.mail.icloud.com;slow.example=HANG"
 *
 * Each entry is DOMAIN=HOST[,HOST...] (MX records of preference 10, 20,
 * ... in that order) or DOMAIN=HANG (the query sleeps FAKE_MX_HANG_MS,
 * default 30000, milliseconds, as a DNS server that never answers would
 * make it wait; the caller has to give up on its own).  Domains are
 * compared without regard to case or a trailing dot.
 *
 * An MX query of a listed domain gets a DNS answer in wire format (header,
 * the question echoed, one MX record per host, names written in full),
 * which glibc's own parser and GLib's accept alike.  Any other query
 * (another domain: NXDOMAIN; another type of record of a listed domain:
 * no data) fails as res_query(3) fails, with -1 and h_errno set.  Nothing
 * ever reaches the network.
 *
 * GLib 2.74 (gio/gthreadedresolver.c, do_lookup_records) calls
 * res_nquery(), which glibc 2.34 and later define in libc as res_nquery
 * (the symbol libgio binds to) and __res_nquery (the name older
 * <resolv.h> gave it, and libresolv's before 2.34).  Both, and the
 * res_query(), res_search() and res_nsearch() families, are replaced.
 * FAKE_MX_LOG, if set, names a file that gets one line per query.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* <resolv.h> makes these macros for the __res_ names; the shim defines
 * both names itself. */
#undef res_query
#undef res_search
#undef res_nquery
#undef res_nsearch

#define MAX_NAME 255

typedef enum {
  ENTRY_NONE,     /* not in the table */
  ENTRY_HOSTS,
  ENTRY_HANG,
} EntryKind;

static void
log_query (const char *name,
           int type,
           const char *outcome)
{
  const char *path = getenv ("FAKE_MX_LOG");
  char line[MAX_NAME + 64];
  int fd, length;

  if (path == NULL || path[0] == '\0')
    return;
  length = snprintf (line, sizeof line, "%s %d %s\n", name, type, outcome);
  if (length < 0 || (size_t) length >= sizeof line)
    return;
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  if (write (fd, line, (size_t) length) < 0)
    {
      /* Only a test's log: nothing to do about it. */
    }
  close (fd);
}

/* Whether @a (@a_len bytes) and @b are the same domain name, ignoring
 * case and a trailing dot on either. */
static int
same_name (const char *a,
           size_t a_len,
           const char *b)
{
  size_t b_len = strlen (b);

  if (a_len > 0 && a[a_len - 1] == '.')
    a_len--;
  if (b_len > 0 && b[b_len - 1] == '.')
    b_len--;
  return a_len == b_len && strncasecmp (a, b, a_len) == 0;
}

/* Finds @name in FAKE_MX; for ENTRY_HOSTS, *hosts points at the
 * comma-separated list (ending at ';' or the end of the string). */
static EntryKind
find_entry (const char *name,
            const char **hosts)
{
  const char *table = getenv ("FAKE_MX");
  const char *p = table;

  if (table == NULL)
    return ENTRY_NONE;

  while (*p != '\0')
    {
      const char *end = strchr (p, ';');
      const char *equals = strchr (p, '=');

      if (end == NULL)
        end = p + strlen (p);
      if (equals != NULL && equals < end && same_name (p, (size_t) (equals - p), name))
        {
          const char *value = equals + 1;

          if ((size_t) (end - value) == 4 && strncmp (value, "HANG", 4) == 0)
            return ENTRY_HANG;
          *hosts = value;
          return ENTRY_HOSTS;
        }
      p = *end == ';' ? end + 1 : end;
    }

  return ENTRY_NONE;
}

/* Appends @name (@length bytes, dots between labels, maybe a trailing
 * one) as DNS labels.  Returns the new end, or NULL if it does not fit or
 * is not a valid name. */
static unsigned char *
put_name (unsigned char *out,
          const unsigned char *limit,
          const char *name,
          size_t length)
{
  size_t start = 0;

  if (length > 0 && name[length - 1] == '.')
    length--;
  if (length == 0 || length > MAX_NAME - 2)
    return NULL;

  while (start < length)
    {
      const char *dot = memchr (name + start, '.', length - start);
      size_t label = (dot != NULL ? (size_t) (dot - name) : length) - start;

      if (label == 0 || label > 63 || limit - out < (long) label + 1)
        return NULL;
      *out++ = (unsigned char) label;
      memcpy (out, name + start, label);
      out += label;
      start += label + 1;
    }
  if (limit - out < 1)
    return NULL;
  *out++ = 0;
  return out;
}

static unsigned char *
put_short (unsigned char *out,
           unsigned int value)
{
  *out++ = (unsigned char) (value >> 8);
  *out++ = (unsigned char) value;
  return out;
}

static unsigned char *
put_long (unsigned char *out,
          unsigned long value)
{
  out = put_short (out, (unsigned int) (value >> 16) & 0xffff);
  return put_short (out, (unsigned int) value & 0xffff);
}

static int
fail (res_state state,
      int herr)
{
  if (state != NULL)
    state->res_h_errno = herr;
  h_errno = herr;
  errno = herr == HOST_NOT_FOUND ? ENOENT : ENODATA;
  return -1;
}

static void
hang (void)
{
  const char *ms = getenv ("FAKE_MX_HANG_MS");
  long delay = ms != NULL ? atol (ms) : 30000;
  struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };

  while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* The answer to a query of @type for @name, in @answer (@size bytes);
 * its length, or -1 with h_errno set as res_query(3) does. */
static int
fake_query (res_state state,
            const char *name,
            int class,
            int type,
            unsigned char *answer,
            int size)
{
  const unsigned char *limit = answer + (size > 0 ? size : 0);
  const char *hosts = NULL;
  EntryKind kind = find_entry (name, &hosts);
  unsigned char *p = answer;
  unsigned char *count_at;
  unsigned int count = 0, preference = 0;

  if (kind == ENTRY_HANG)
    {
      log_query (name, type, "hang");
      hang ();
      return fail (state, TRY_AGAIN);
    }
  if (kind == ENTRY_NONE)
    {
      log_query (name, type, "nxdomain");
      return fail (state, HOST_NOT_FOUND);
    }
  if (type != ns_t_mx || class != ns_c_in)
    {
      log_query (name, type, "nodata");
      return fail (state, NO_DATA);
    }

  /* The header: a response (QR), authoritative, recursion desired and
   * available, no error; one question. */
  if (limit - p < HFIXEDSZ)
    return fail (state, NO_RECOVERY);
  memset (p, 0, HFIXEDSZ);
  p[0] = 0x4d;                  /* an id */
  p[1] = 0x58;
  p[2] = 0x80 | 0x04 | 0x01;    /* QR, AA, RD */
  p[3] = 0x80;                  /* RA, rcode 0 */
  p[5] = 1;                     /* qdcount */
  count_at = p + 6;             /* ancount */
  p += HFIXEDSZ;

  /* The question, echoed. */
  p = put_name (p, limit, name, strlen (name));
  if (p == NULL || limit - p < QFIXEDSZ)
    return fail (state, NO_RECOVERY);
  p = put_short (p, (unsigned int) type);
  p = put_short (p, (unsigned int) class);

  /* One MX record per host. */
  while (*hosts != '\0' && *hosts != ';')
    {
      size_t length = strcspn (hosts, ",;");
      unsigned char *rdata;

      if (length > 0)
        {
          p = put_name (p, limit, name, strlen (name));
          if (p == NULL || limit - p < RRFIXEDSZ + 2)
            return fail (state, NO_RECOVERY);
          p = put_short (p, ns_t_mx);
          p = put_short (p, ns_c_in);
          p = put_long (p, 300);            /* TTL */
          rdata = p;
          p += 2;                           /* RDLENGTH, below */
          preference += 10;
          p = put_short (p, preference);
          p = put_name (p, limit, hosts, length);
          if (p == NULL)
            return fail (state, NO_RECOVERY);
          put_short (rdata, (unsigned int) (p - rdata - 2));
          count++;
        }
      hosts += length;
      if (*hosts == ',')
        hosts++;
    }

  if (count == 0)
    {
      log_query (name, type, "nodata");
      return fail (state, NO_DATA);
    }
  put_short (count_at, count);
  log_query (name, type, "answered");
  if (state != NULL)
    state->res_h_errno = NETDB_SUCCESS;
  return (int) (p - answer);
}

int res_nquery (res_state state, const char *name, int class, int type,
                unsigned char *answer, int size);
int __res_nquery (res_state state, const char *name, int class, int type,
                  unsigned char *answer, int size);
int res_nsearch (res_state state, const char *name, int class, int type,
                 unsigned char *answer, int size);
int __res_nsearch (res_state state, const char *name, int class, int type,
                   unsigned char *answer, int size);
int res_query (const char *name, int class, int type, unsigned char *answer, int size);
int __res_query (const char *name, int class, int type, unsigned char *answer, int size);
int res_search (const char *name, int class, int type, unsigned char *answer, int size);
int __res_search (const char *name, int class, int type, unsigned char *answer, int size);

int
res_nquery (res_state state, const char *name, int class, int type,
            unsigned char *answer, int size)
{
  return fake_query (state, name, class, type, answer, size);
}

int
__res_nquery (res_state state, const char *name, int class, int type,
              unsigned char *answer, int size)
{
  return fake_query (state, name, class, type, answer, size);
}

int
res_nsearch (res_state state, const char *name, int class, int type,
             unsigned char *answer, int size)
{
  return fake_query (state, name, class, type, answer, size);
}

int
__res_nsearch (res_state state, const char *name, int class, int type,
               unsigned char *answer, int size)
{
  return fake_query (state, name, class, type, answer, size);
}

int
res_query (const char *name, int class, int type, unsigned char *answer, int size)
{
  return fake_query (NULL, name, class, type, answer, size);
}

int
__res_query (const char *name, int class, int type, unsigned char *answer, int size)
{
  return fake_query (NULL, name, class, type, answer, size);
}

int
res_search (const char *name, int class, int type, unsigned char *answer, int size)
{
  return fake_query (NULL, name, class, type, answer, size);
}

int
__res_search (const char *name, int class, int type, unsigned char *answer, int size)
{
  return fake_query (NULL, name, class, type, answer, size);
}
