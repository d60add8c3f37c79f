/* connection.h: one TCP connection to a mail server, optionally under TLS
 *
 * Every call blocks the calling thread (a worker, never the main loop) but
 * waits only through poll(): each wait ends at the absolute @deadline
 * (g_get_monotonic_time() microseconds, MS_ERROR_TIMEOUT) or as soon as
 * @cancellable is cancelled (MS_ERROR_CANCELLED).  Errors are in the
 * MS_ERROR domain with messages for people that name the server and port.
 *
 * An MsConnection is used by one thread at a time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The longest line ms_connection_read_line() accepts, without its CRLF. */
#define MS_CONNECTION_MAX_LINE (64 * 1024)

typedef struct _MsConnection MsConnection;

/* What a verified TLS session looked like; all strings owned by the
 * struct. */
typedef struct {
  char *version;     /* "TLSv1.3" */
  char *cipher;      /* "TLS_AES_256_GCM_SHA384" */
  char *subject;     /* server certificate subject, one-line RFC 2253 */
  char *issuer;      /* its issuer, the same form */
  char *fingerprint; /* SHA-256 of the DER certificate, "AB:CD:…" */
  gint64 not_after;  /* end of validity, unix seconds */
} MsTlsInfo;

/* Deep copy of @src into @dest; @dest's old contents are not freed. */
void ms_tls_info_copy (const MsTlsInfo *src, MsTlsInfo *dest);
/* Frees the strings and zeroes @info; safe on a zeroed struct. */
void ms_tls_info_clear (MsTlsInfo *info);

/* Resolves @host (cancellable, bounded by @deadline) and connects to each of
 * its addresses in turn, IPv6 and IPv4 as the resolver orders them, giving
 * each a fair share of the remaining time.  IP literals are used as-is.
 * Errors: MS_ERROR_CONNECTION_FAILED (name not found, refused, unreachable;
 * the message says which), MS_ERROR_TIMEOUT, MS_ERROR_CANCELLED.
 * Returns: (transfer full): a plain-text connection, or NULL */
MsConnection *ms_connection_connect (const char *host,
                                     guint16 port,
                                     gint64 deadline,
                                     GCancellable *cancellable,
                                     GError **error);

void ms_connection_free (MsConnection *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsConnection, ms_connection_free)

/* (transfer none) */
const char *ms_connection_get_host (MsConnection *conn);
guint16 ms_connection_get_port (MsConnection *conn);

/* What the connection is doing, for time-out and hang-up messages, e.g.
 * _("waiting for the greeting").  @step must outlive its use (a string
 * literal or a gettext result). */
void ms_connection_set_step (MsConnection *conn, const char *step);

/* Implicit TLS (call right after connecting) or the STARTTLS upgrade (call
 * right after the server's go-ahead).  TLS 1.2 or later, the system trust
 * store (SSL_CERT_FILE / SSL_CERT_DIR are honoured), SNI and a host name (or
 * IP address) check against the name given to ms_connection_connect().
 * There is no way to skip verification.
 * Errors: MS_ERROR_PROTOCOL_ERROR when, after a plain-text phase, plain text
 * is already waiting (bytes buffered by the line reader or on the socket) or
 * arrives instead of the server's TLS handshake (CVE-2011-0411 class); MS_ERROR_CERTIFICATE_INVALID
 * saying what is wrong with the certificate; MS_ERROR_TLS_FAILED for other
 * handshake failures; MS_ERROR_TIMEOUT, MS_ERROR_CANCELLED. */
gboolean ms_connection_start_tls (MsConnection *conn,
                                  gint64 deadline,
                                  GCancellable *cancellable,
                                  GError **error);

/* Whether certificate verification failed on the validity dates (expired
 * or not yet valid), which usually means this computer's clock is wrong. */
gboolean ms_connection_certificate_dates_wrong (MsConnection *conn);

/* After a successful ms_connection_start_tls(), else NULL (transfer none). */
const MsTlsInfo *ms_connection_get_tls_info (MsConnection *conn);

/* Bytes received but not yet returned by ms_connection_read_line(). */
gsize ms_connection_get_pending_plaintext (MsConnection *conn);

/* Whether the socket has bytes waiting right now (a zero-time MSG_PEEK);
 * meant for the plain-text phase. */
gboolean ms_connection_socket_has_data (MsConnection *conn);

/* Reads one line and strips its CRLF (a bare LF is accepted too).  A line
 * over MS_CONNECTION_MAX_LINE bytes or holding a NUL byte is
 * MS_ERROR_PROTOCOL_ERROR; the server closing the connection is
 * MS_ERROR_CONNECTION_FAILED.
 * Returns: (transfer full): the line, or NULL */
char *ms_connection_read_line (MsConnection *conn,
                               gint64 deadline,
                               GCancellable *cancellable,
                               GError **error);

/* Raw bytes consumed by ms_connection_read_line() so far, line ends
 * included; callers bound the size of a whole reply with it. */
guint64 ms_connection_get_bytes_read (MsConnection *conn);

/* Sends all of @data.  Nothing is copied outside OpenSSL's own record
 * buffers, so a caller that wipes @data afterwards leaves no clear copy of
 * it in mailsetup's memory. */
gboolean ms_connection_write (MsConnection *conn,
                              const char *data,
                              gsize len,
                              gint64 deadline,
                              GCancellable *cancellable,
                              GError **error);

G_END_DECLS
