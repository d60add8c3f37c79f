/* connection.c: TCP connections and TLS for the probes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "connection.h"

#include "mailsetup-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Real chains are two to four certificates deep; anything much longer is a
 * misconfiguration or a way to make us do pointless work. */
#define MAX_VERIFY_DEPTH 8
/* Likewise for what the server sends: a handful, not a hundred. */
#define MAX_PEER_CERTS 10

/* One maximal line, its CRLF, and room for a read. */
#define READ_CHUNK 4096
#define BUFFER_SIZE (MS_CONNECTION_MAX_LINE + 2 + READ_CHUNK)

struct _MsConnection {
  char *host;
  guint16 port;
  int fd;
  gint64 started;
  const char *step;

  char *buf;
  gsize start;
  gsize end;
  guint64 bytes_read;

  SSL *ssl;
  gboolean tls_up;
  MsTlsInfo tls_info;

  /* Filled in while a handshake runs, to explain a failure. */
  int io_errno;
  int first_tls_byte;
  int verify_error;
  X509 *verify_cert;
};

typedef enum {
  WAIT_READY,
  WAIT_TIMEOUT,
  WAIT_CANCELLED,
  WAIT_FAILED,
} WaitResult;

/* Waits until @fd has @events, the deadline passes or @cancellable fires.
 * WAIT_FAILED leaves errno set. */
static WaitResult
wait_fd (int fd,
         short events,
         gint64 deadline,
         GCancellable *cancellable)
{
  struct pollfd fds[2] = { { .fd = fd, .events = events } };
  GPollFD cancel_fd = { .fd = -1 };
  nfds_t nfds = 1;
  WaitResult result;

  if (g_cancellable_make_pollfd (cancellable, &cancel_fd))
    {
      fds[1].fd = cancel_fd.fd;
      fds[1].events = POLLIN;
      nfds = 2;
    }

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 timeout_ms;
      int n;

      if (g_cancellable_is_cancelled (cancellable))
        {
          result = WAIT_CANCELLED;
          break;
        }
      if (now >= deadline)
        {
          result = WAIT_TIMEOUT;
          break;
        }

      timeout_ms = MIN ((deadline - now + 999) / 1000, INT_MAX);
      n = poll (fds, nfds, (int) timeout_ms);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          result = WAIT_FAILED;
          break;
        }
      /* Error and hang-up conditions count as ready: the next read or
       * write reports them properly. */
      if (n > 0 && fds[0].revents != 0)
        {
          result = WAIT_READY;
          break;
        }
    }

  if (nfds == 2)
    {
      int saved_errno = errno;

      g_cancellable_release_fd (cancellable);
      errno = saved_errno;
    }

  return result;
}

/* Whole seconds between @from and @deadline, for messages. */
static int
seconds_until (gint64 from,
               gint64 deadline)
{
  gint64 seconds = (deadline - from + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;

  return (int) CLAMP (seconds, 1, INT_MAX);
}

static void
set_cancelled_error (const char *host,
                     guint16 port,
                     GError **error)
{
  g_set_error (error, MS_ERROR, MS_ERROR_CANCELLED,
               _("The check of %s port %u was cancelled."), host, port);
}

static void
set_timeout_error (MsConnection *conn,
                   gint64 deadline,
                   GError **error)
{
  int seconds = seconds_until (conn->started, deadline);

  g_set_error (error, MS_ERROR, MS_ERROR_TIMEOUT,
               ngettext ("%s port %u did not answer within %d second (%s). "
                         "Check this computer's internet connection and try "
                         "again; if it keeps happening, the server may be "
                         "having problems.",
                         "%s port %u did not answer within %d seconds (%s). "
                         "Check this computer's internet connection and try "
                         "again; if it keeps happening, the server may be "
                         "having problems.",
                         seconds),
               conn->host, conn->port, seconds, conn->step);
}

static void
set_closed_error (MsConnection *conn,
                  GError **error)
{
  g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
               _("%s port %u closed the connection (%s). The server may be "
                 "busy; try again later."),
               conn->host, conn->port, conn->step);
}

static void
set_io_error (MsConnection *conn,
              int errsv,
              GError **error)
{
  if (errsv == ECONNRESET || errsv == EPIPE)
    set_closed_error (conn, error);
  else
    g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                 _("The connection to %s port %u failed (%s): %s. Check this "
                   "computer's internet connection and try again."),
                 conn->host, conn->port, conn->step, g_strerror (errsv));
}

/* Waits on the connection's socket, turning every outcome but readiness
 * into a GError. */
static gboolean
wait_conn (MsConnection *conn,
           short events,
           gint64 deadline,
           GCancellable *cancellable,
           GError **error)
{
  switch (wait_fd (conn->fd, events, deadline, cancellable))
    {
    case WAIT_READY:
      return TRUE;
    case WAIT_TIMEOUT:
      set_timeout_error (conn, deadline, error);
      return FALSE;
    case WAIT_CANCELLED:
      set_cancelled_error (conn->host, conn->port, error);
      return FALSE;
    case WAIT_FAILED:
    default:
      set_io_error (conn, errno, error);
      return FALSE;
    }
}

/* ---- TLS set-up shared by every connection ---- */

typedef struct {
  SSL_CTX *ctx;
  BIO_METHOD *bio_method;
  char *failure;
} TlsGlobals;

static int
verify_callback (int ok,
                 X509_STORE_CTX *store)
{
  SSL *ssl;
  MsConnection *conn;

  if (ok)
    return ok;

  ssl = X509_STORE_CTX_get_ex_data (store,
                                    SSL_get_ex_data_X509_STORE_CTX_idx ());
  conn = ssl != NULL ? SSL_get_app_data (ssl) : NULL;
  /* The first complaint is the one that explains the others. */
  if (conn != NULL && conn->verify_error == X509_V_OK)
    {
      X509 *cert = X509_STORE_CTX_get_current_cert (store);

      conn->verify_error = X509_STORE_CTX_get_error (store);
      if (cert != NULL && X509_up_ref (cert))
        conn->verify_cert = cert;
    }

  return ok;
}

/* Refuses an absurdly long list of certificates before building a chain
 * from it, then verifies as usual. */
static int
verify_certificates (X509_STORE_CTX *store,
                     void *data)
{
  STACK_OF (X509) *sent = X509_STORE_CTX_get0_untrusted (store);

  if (sent != NULL && sk_X509_num (sent) > MAX_PEER_CERTS)
    {
      X509_STORE_CTX_set_error (store, X509_V_ERR_CERT_CHAIN_TOO_LONG);
      return 0;
    }

  return X509_verify_cert (store);
}

/* Our own socket BIO: like BIO_s_socket() but with MSG_NOSIGNAL, so a
 * server that hangs up cannot kill the daemon with SIGPIPE, and noting the
 * first byte of the server's handshake to recognise plain text. */
static int
socket_bio_write (BIO *bio,
                  const char *data,
                  int len)
{
  MsConnection *conn = BIO_get_data (bio);
  ssize_t n;

  BIO_clear_retry_flags (bio);
  do
    n = send (conn->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_write (bio);
      else
        conn->io_errno = errno;
      return -1;
    }

  return (int) n;
}

static int
socket_bio_read (BIO *bio,
                 char *data,
                 int len)
{
  MsConnection *conn = BIO_get_data (bio);
  ssize_t n;

  BIO_clear_retry_flags (bio);
  do
    n = recv (conn->fd, data, len, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_read (bio);
      else
        conn->io_errno = errno;
      return -1;
    }

  if (n > 0 && conn->first_tls_byte < 0)
    conn->first_tls_byte = (guchar) data[0];

  return (int) n;
}

static long
socket_bio_ctrl (BIO *bio,
                 int cmd,
                 long num,
                 void *ptr)
{
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
socket_bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static char *
openssl_error_string (void)
{
  unsigned long code = ERR_peek_last_error ();
  const char *reason = code != 0 ? ERR_reason_error_string (code) : NULL;

  if (reason != NULL)
    return g_strdup (reason);
  if (code != 0)
    return g_strdup_printf ("OpenSSL error %lx", code);
  return g_strdup (_("unknown error"));
}

static gpointer
create_tls_globals (gpointer data)
{
  TlsGlobals *globals = g_new0 (TlsGlobals, 1);
  SSL_CTX *ctx;
  BIO_METHOD *method;

  ERR_clear_error ();
  ctx = SSL_CTX_new (TLS_client_method ());
  method = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK,
                         "mailsetup socket");
  if (ctx == NULL || method == NULL
      || !SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION))
    {
      g_autofree char *reason = openssl_error_string ();

      globals->failure = g_strdup_printf (_("OpenSSL could not be set up: %s"),
                                          reason);
      SSL_CTX_free (ctx);
      BIO_meth_free (method);
      return globals;
    }

  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, verify_callback);
  SSL_CTX_set_verify_depth (ctx, MAX_VERIFY_DEPTH);
  SSL_CTX_set_cert_verify_callback (ctx, verify_certificates, NULL);
  /* A server that drops the connection without close_notify is reported as
   * having closed it, which is what it did. */
  SSL_CTX_set_options (ctx, SSL_OP_IGNORE_UNEXPECTED_EOF
                            | SSL_OP_NO_RENEGOTIATION
                            | SSL_OP_NO_COMPRESSION);
  /* Reads SSL_CERT_FILE / SSL_CERT_DIR; without a store every certificate
   * fails as "unknown issuer", which is the safe outcome. */
  if (!SSL_CTX_set_default_verify_paths (ctx))
    g_warning ("Could not load the system's trusted certificates");

  BIO_meth_set_write (method, socket_bio_write);
  BIO_meth_set_read (method, socket_bio_read);
  BIO_meth_set_ctrl (method, socket_bio_ctrl);
  BIO_meth_set_create (method, socket_bio_create);

  ERR_clear_error ();
  globals->ctx = ctx;
  globals->bio_method = method;
  return globals;
}

static const TlsGlobals *
get_tls_globals (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, create_tls_globals, NULL);
}

/* ---- certificate details ---- */

static char *
name_to_string (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;
  char *result;

  if (bio == NULL)
    return g_strdup ("");
  /* RFC 2253 escaping keeps the result ASCII, safe for D-Bus strings. */
  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253);
  len = BIO_get_mem_data (bio, &data);
  result = g_strndup (data, len > 0 ? (gsize) len : 0);
  BIO_free (bio);

  return result;
}

/* The name people know a certificate by: its first common name, else the
 * whole subject. */
static char *
name_for_people (const X509_NAME *name)
{
  int index = X509_NAME_get_index_by_NID (name, NID_commonName, -1);

  if (index >= 0)
    {
      X509_NAME_ENTRY *entry = X509_NAME_get_entry (name, index);
      const ASN1_STRING *data = X509_NAME_ENTRY_get_data (entry);
      unsigned char *utf8 = NULL;
      int len = ASN1_STRING_to_UTF8 (&utf8, data);

      if (len >= 0)
        {
          char *result = g_utf8_make_valid ((const char *) utf8, len);

          OPENSSL_free (utf8);
          return result;
        }
    }

  return name_to_string (name);
}

/* The host names a certificate is valid for, for a "wrong host" message. */
static char *
certificate_names (X509 *cert)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GENERAL_NAMES *alt_names;
  const guint max_names = 4;

  alt_names = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; alt_names != NULL && i < sk_GENERAL_NAME_num (alt_names); i++)
    {
      const GENERAL_NAME *alt = sk_GENERAL_NAME_value (alt_names, i);

      if (names->len == max_names)
        {
          g_ptr_array_add (names, g_strdup ("…"));
          break;
        }
      if (alt->type == GEN_DNS)
        {
          const ASN1_IA5STRING *dns = alt->d.dNSName;

          g_ptr_array_add (names,
                           g_utf8_make_valid ((const char *) ASN1_STRING_get0_data (dns),
                                              ASN1_STRING_length (dns)));
        }
      else if (alt->type == GEN_IPADD)
        {
          const ASN1_OCTET_STRING *ip = alt->d.iPAddress;
          int len = ASN1_STRING_length (ip);

          if (len == 4 || len == 16)
            {
              g_autoptr(GInetAddress) address =
                g_inet_address_new_from_bytes (ASN1_STRING_get0_data (ip),
                                               len == 4 ? G_SOCKET_FAMILY_IPV4
                                                        : G_SOCKET_FAMILY_IPV6);

              g_ptr_array_add (names, g_inet_address_to_string (address));
            }
        }
    }
  GENERAL_NAMES_free (alt_names);

  if (names->len == 0)
    return name_for_people (X509_get_subject_name (cert));

  g_ptr_array_add (names, NULL);
  return g_strjoinv (", ", (char **) names->pdata);
}

static gint64
asn1_time_to_unix (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_to_tm (time, &tm))
    return 0;

  return (gint64) timegm (&tm);
}

static char *
format_date (const ASN1_TIME *time)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (asn1_time_to_unix (time));
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  if (local == NULL)
    return g_strdup (_("an unknown date"));

  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

static void
set_certificate_error (MsConnection *conn,
                       GError **error)
{
  X509 *cert = conn->verify_cert;
  const char *host = conn->host;
  guint port = conn->port;

  switch (conn->verify_error)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      {
        g_autofree char *date = format_date (cert != NULL ? X509_get0_notAfter (cert) : NULL);

        g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                     _("Security problem: the certificate of %s port %u expired on %s. "
                       "Check this computer's date and time; if they are "
                       "right, the server's certificate is out of date. Your "
                       "password was not sent."),
                     host, port, date);
        return;
      }

    case X509_V_ERR_CERT_NOT_YET_VALID:
      {
        g_autofree char *date = format_date (cert != NULL ? X509_get0_notBefore (cert) : NULL);

        g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                     _("Security problem: the certificate of %s port %u is not valid before "
                       "%s. Check this computer's date and time. Your "
                       "password was not sent."),
                     host, port, date);
        return;
      }

    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      {
        g_autofree char *names = cert != NULL ? certificate_names (cert)
                                              : g_strdup (_("another server"));

        g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                     _("Security problem: the certificate of %s port %u is "
                       "for %s, not for %s. The server name may be wrong, or "
                       "something on the network is intercepting the "
                       "connection. Your password was not sent."),
                     host, port, names, host);
        return;
      }

    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      {
        g_autofree char *name = cert != NULL ? name_for_people (X509_get_subject_name (cert))
                                             : g_strdup ("?");

        g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                     _("Security problem: the certificate of %s port %u is self-signed "
                       "(“%s”) and no authority this computer trusts vouches "
                       "for it. Something on the network may be intercepting "
                       "the connection. Your password was not sent."),
                     host, port, name);
        return;
      }

    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      {
        g_autofree char *issuer = cert != NULL ? name_for_people (X509_get_issuer_name (cert))
                                               : g_strdup ("?");

        g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                     _("Security problem: the certificate of %s port %u is issued by “%s”, "
                       "an authority this computer does not trust. Something "
                       "on the network may be intercepting the connection. "
                       "Your password was not sent."),
                     host, port, issuer);
        return;
      }

    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                   _("Security problem: %s port %u sent a chain of more "
                     "than %d certificates, which mailsetup does not accept. "
                     "The server is misconfigured, or something on the "
                     "network is tampering with the connection. Your password "
                     "was not sent."),
                   host, port, MAX_PEER_CERTS);
      return;

    default:
      g_set_error (error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID,
                   _("Security problem: the certificate of %s port %u could not be verified "
                     "(%s). Your password was not sent."),
                   host, port,
                   X509_verify_cert_error_string (conn->verify_error));
      return;
    }
}

/* TLS records start with a content type byte from 20 to 24. */
static gboolean
is_tls_record_start (int byte)
{
  return byte >= 20 && byte <= 24;
}

gboolean
ms_connection_certificate_dates_wrong (MsConnection *conn)
{
  return conn->verify_error == X509_V_ERR_CERT_HAS_EXPIRED ||
         conn->verify_error == X509_V_ERR_CERT_NOT_YET_VALID;
}

/* TLS failed on an established connection, during conn->step. */
static void
set_tls_error (MsConnection *conn,
               GError **error)
{
  g_autofree char *reason = openssl_error_string ();

  ERR_clear_error ();
  g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
               _("The secure (TLS) connection to %s port %u failed (%s): %s."),
               conn->host, conn->port, conn->step, reason);
}

static void
set_handshake_error (MsConnection *conn,
                     int ssl_error,
                     gboolean after_plaintext,
                     GError **error)
{
  g_autofree char *reason = NULL;

  if (conn->verify_error == X509_V_OK)
    conn->verify_error = (int) SSL_get_verify_result (conn->ssl);
  if (conn->verify_error != X509_V_OK)
    {
      set_certificate_error (conn, error);
      return;
    }

  if (conn->first_tls_byte >= 0 && !is_tls_record_start (conn->first_tls_byte))
    {
      if (after_plaintext)
        g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                     _("Security problem: %s port %u sent unencrypted data "
                       "after agreeing to start TLS. Something on the network "
                       "may be tampering with the connection. Your password "
                       "was not sent."),
                     conn->host, conn->port);
      else
        g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
                     _("%s port %u answered without TLS encryption. Check "
                       "the port and security settings (this port may expect "
                       "STARTTLS)."),
                     conn->host, conn->port);
      return;
    }

  if (ssl_error == SSL_ERROR_ZERO_RETURN
      || (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_last_error () == 0))
    {
      if (conn->io_errno != 0 && conn->io_errno != ECONNRESET
          && conn->io_errno != EPIPE)
        reason = g_strdup (g_strerror (conn->io_errno));
      else
        reason = g_strdup (_("the server closed the connection"));
    }
  else
    reason = openssl_error_string ();

  g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
               _("The secure (TLS) connection to %s port %u could not be set "
                 "up: %s. The server may only offer outdated TLS versions, or "
                 "something on the network interferes with encrypted "
                 "connections."),
               conn->host, conn->port, reason);
}

static void
record_tls_info (MsConnection *conn)
{
  X509 *cert = SSL_get0_peer_certificate (conn->ssl);
  const SSL_CIPHER *cipher = SSL_get_current_cipher (conn->ssl);
  MsTlsInfo *info = &conn->tls_info;

  info->version = g_strdup (SSL_get_version (conn->ssl));
  info->cipher = g_strdup (cipher != NULL ? SSL_CIPHER_get_name (cipher) : "");

  if (cert != NULL)
    {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_len = 0;

      info->subject = name_to_string (X509_get_subject_name (cert));
      info->issuer = name_to_string (X509_get_issuer_name (cert));
      info->not_after = asn1_time_to_unix (X509_get0_notAfter (cert));

      if (X509_digest (cert, EVP_sha256 (), digest, &digest_len))
        {
          GString *hex = g_string_sized_new (digest_len * 3);

          for (unsigned int i = 0; i < digest_len; i++)
            g_string_append_printf (hex, i == 0 ? "%02X" : ":%02X", digest[i]);
          info->fingerprint = g_string_free (hex, FALSE);
        }
    }

  if (info->subject == NULL)
    info->subject = g_strdup ("");
  if (info->issuer == NULL)
    info->issuer = g_strdup ("");
  if (info->fingerprint == NULL)
    info->fingerprint = g_strdup ("");
}

gboolean
ms_connection_start_tls (MsConnection *conn,
                         gint64 deadline,
                         GCancellable *cancellable,
                         GError **error)
{
  const TlsGlobals *globals = get_tls_globals ();
  gboolean after_plaintext = conn->bytes_read > 0;
  BIO *bio;

  g_return_val_if_fail (conn->ssl == NULL, FALSE);

  /* After STARTTLS, anything the server sent before our handshake was not
   * protected by it and must not be read as if it were.  (With implicit
   * TLS, early plain text is a wrong port, reported from the handshake.) */
  if (after_plaintext
      && (ms_connection_get_pending_plaintext (conn) > 0
          || ms_connection_socket_has_data (conn)))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                   _("Security problem: %s port %u sent unencrypted data "
                     "after agreeing to start TLS. Something on the network "
                     "may be tampering with the connection. Your password "
                     "was not sent."),
                   conn->host, conn->port);
      return FALSE;
    }

  if (globals->ctx == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED, "%s",
                   globals->failure);
      return FALSE;
    }

  ERR_clear_error ();
  conn->ssl = SSL_new (globals->ctx);
  bio = BIO_new (globals->bio_method);
  if (conn->ssl == NULL || bio == NULL)
    {
      g_autofree char *reason = openssl_error_string ();

      BIO_free (bio);
      g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
                   _("OpenSSL could not be set up: %s"), reason);
      return FALSE;
    }
  BIO_set_data (bio, conn);
  SSL_set_bio (conn->ssl, bio, bio);
  SSL_set_app_data (conn->ssl, conn);
  SSL_set_connect_state (conn->ssl);

  if (g_hostname_is_ip_address (conn->host))
    {
      /* SNI is for names only (RFC 6066). */
      X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (conn->ssl), conn->host);
    }
  else
    {
      SSL_set_tlsext_host_name (conn->ssl, conn->host);
      SSL_set_hostflags (conn->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host (conn->ssl, conn->host);
    }

  conn->io_errno = 0;
  conn->first_tls_byte = -1;
  conn->verify_error = X509_V_OK;

  for (;;)
    {
      int ret, ssl_error;
      short events;

      ERR_clear_error ();
      ret = SSL_do_handshake (conn->ssl);
      if (ret == 1)
        break;

      ssl_error = SSL_get_error (conn->ssl, ret);
      if (ssl_error == SSL_ERROR_WANT_READ)
        events = POLLIN;
      else if (ssl_error == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
      else
        {
          set_handshake_error (conn, ssl_error, after_plaintext, error);
          ERR_clear_error ();
          return FALSE;
        }

      if (!wait_conn (conn, events, deadline, cancellable, error))
        return FALSE;
    }

  record_tls_info (conn);
  conn->tls_up = TRUE;
  g_debug ("%s port %u: %s, %s, certificate %s", conn->host, conn->port,
           conn->tls_info.version, conn->tls_info.cipher,
           conn->tls_info.subject);

  return TRUE;
}

const MsTlsInfo *
ms_connection_get_tls_info (MsConnection *conn)
{
  return conn->tls_up ? &conn->tls_info : NULL;
}

void
ms_tls_info_copy (const MsTlsInfo *src,
                  MsTlsInfo *dest)
{
  dest->version = g_strdup (src->version);
  dest->cipher = g_strdup (src->cipher);
  dest->subject = g_strdup (src->subject);
  dest->issuer = g_strdup (src->issuer);
  dest->fingerprint = g_strdup (src->fingerprint);
  dest->not_after = src->not_after;
}

void
ms_tls_info_clear (MsTlsInfo *info)
{
  g_clear_pointer (&info->version, g_free);
  g_clear_pointer (&info->cipher, g_free);
  g_clear_pointer (&info->subject, g_free);
  g_clear_pointer (&info->issuer, g_free);
  g_clear_pointer (&info->fingerprint, g_free);
  info->not_after = 0;
}

/* ---- connecting ---- */

typedef struct {
  GList *addresses;
  GError *error;
  gboolean done;
  gboolean timed_out;
  GCancellable *inner;
} Lookup;

static void
lookup_done (GObject *source,
             GAsyncResult *result,
             gpointer user_data)
{
  Lookup *lookup = user_data;

  lookup->addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source),
                                                        result, &lookup->error);
  lookup->done = TRUE;
}

static gboolean
lookup_timed_out (gpointer user_data)
{
  Lookup *lookup = user_data;

  lookup->timed_out = TRUE;
  g_cancellable_cancel (lookup->inner);
  return G_SOURCE_REMOVE;
}

static void
cancel_lookup (GCancellable *outer,
               gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

/* The asynchronous resolver on a private main context lets a blocking
 * worker stop waiting at the deadline or on cancellation, which a plain
 * getaddrinfo() cannot. */
static GList *
resolve (const char *host,
         guint16 port,
         gint64 started,
         gint64 deadline,
         GCancellable *cancellable,
         GError **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GCancellable) inner = g_cancellable_new ();
  g_autoptr(GSource) timeout = NULL;
  Lookup lookup = { .inner = inner };
  gint64 remaining_ms = MAX ((deadline - g_get_monotonic_time ()) / 1000, 0);
  gulong handler = 0;

  g_main_context_push_thread_default (context);

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_lookup),
                                     inner, NULL);

  timeout = g_timeout_source_new ((guint) MIN (remaining_ms, G_MAXUINT));
  g_source_set_callback (timeout, lookup_timed_out, &lookup, NULL);
  g_source_attach (timeout, context);

  g_resolver_lookup_by_name_async (resolver, host, inner, lookup_done, &lookup);
  while (!lookup.done)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_cancellable_disconnect (cancellable, handler);
  g_main_context_pop_thread_default (context);

  if (lookup.addresses != NULL)
    return lookup.addresses;

  if (g_cancellable_is_cancelled (cancellable))
    {
      set_cancelled_error (host, port, error);
    }
  else if (lookup.timed_out)
    {
      int seconds = seconds_until (started, deadline);

      /* The port tells apart the endpoints that share a host name. */
      g_set_error (error, MS_ERROR, MS_ERROR_TIMEOUT,
                   ngettext ("Looking up the server name %s for port %u took "
                             "longer than %d second. Check this computer's "
                             "internet connection.",
                             "Looking up the server name %s for port %u took "
                             "longer than %d seconds. Check this computer's "
                             "internet connection.",
                             seconds),
                   host, port, seconds);
    }
  else if (g_error_matches (lookup.error, G_RESOLVER_ERROR,
                            G_RESOLVER_ERROR_NOT_FOUND))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                   _("The server name %s could not be found, so port %u could "
                     "not be reached. Check that this computer is connected "
                     "to the internet and that name lookups (DNS) work."),
                   host, port);
    }
  else
    {
      g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                   _("The server name %s could not be looked up (%s), so port "
                     "%u could not be reached. Check this computer's internet "
                     "connection."),
                   host, lookup.error != NULL ? lookup.error->message : "?",
                   port);
    }

  g_clear_error (&lookup.error);
  return NULL;
}

/* Returns the connected socket, or -1 with *result saying why and errno
 * set for WAIT_FAILED. */
static int
connect_address (GInetAddress *address,
                 guint16 port,
                 gint64 deadline,
                 GCancellable *cancellable,
                 WaitResult *result)
{
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, port);
  struct sockaddr_storage native;
  gssize native_len = g_socket_address_get_native_size (socket_address);
  int family = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  int one = 1;
  int fd, errsv;
  socklen_t errsv_len = sizeof errsv;

  *result = WAIT_FAILED;
  if (native_len < 0
      || !g_socket_address_to_native (socket_address, &native, sizeof native, NULL))
    {
      errno = EAFNOSUPPORT;
      return -1;
    }

  fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0)
    return -1;
  /* Commands are short and each waits for its answer. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (connect (fd, (struct sockaddr *) &native, (socklen_t) native_len) == 0)
    {
      *result = WAIT_READY;
      return fd;
    }
  if (errno != EINPROGRESS && errno != EINTR)
    goto fail;

  *result = wait_fd (fd, POLLOUT, deadline, cancellable);
  if (*result != WAIT_READY)
    goto fail;

  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &errsv, &errsv_len) < 0)
    errsv = errno;
  if (errsv != 0)
    {
      *result = WAIT_FAILED;
      errno = errsv;
      goto fail;
    }

  return fd;

fail:
  errsv = errno;
  close (fd);
  errno = errsv;
  return -1;
}

MsConnection *
ms_connection_connect (const char *host,
                       guint16 port,
                       gint64 deadline,
                       GCancellable *cancellable,
                       GError **error)
{
  gint64 started = g_get_monotonic_time ();
  GList *addresses;
  guint n_left;
  gboolean timed_out = FALSE;
  int refused = 0, other_errno = 0;
  int fd = -1;
  MsConnection *conn;

  g_return_val_if_fail (host != NULL && *host != '\0', NULL);

  addresses = resolve (host, port, started, deadline, cancellable, error);
  if (addresses == NULL)
    return NULL;

  n_left = g_list_length (addresses);
  for (GList *l = addresses; l != NULL && fd < 0; l = l->next, n_left--)
    {
      g_autofree char *text = g_inet_address_to_string (l->data);
      gint64 now = g_get_monotonic_time ();
      /* A black-holed address (often IPv6) must not eat the time the
       * others need. */
      gint64 slice_end = now + MAX (deadline - now, 0) / n_left;
      WaitResult result;

      g_debug ("Connecting to %s (%s) port %u", host, text, port);
      fd = connect_address (l->data, port, slice_end, cancellable, &result);
      if (fd >= 0)
        break;

      if (result == WAIT_CANCELLED)
        break;
      else if (result == WAIT_TIMEOUT)
        timed_out = TRUE;
      else if (errno == ECONNREFUSED)
        refused = errno;
      else
        other_errno = errno;
      g_debug ("Connecting to %s (%s) port %u failed: %s", host, text, port,
               result == WAIT_TIMEOUT ? "timed out" : g_strerror (errno));
    }
  g_resolver_free_addresses (addresses);

  if (fd < 0)
    {
      int seconds = seconds_until (started, deadline);

      if (g_cancellable_is_cancelled (cancellable))
        set_cancelled_error (host, port, error);
      else if (refused != 0)
        g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                     _("%s port %u refused the connection. The service may be "
                       "down, or a firewall may be blocking this port."),
                     host, port);
      else if (timed_out)
        g_set_error (error, MS_ERROR, MS_ERROR_TIMEOUT,
                     ngettext ("%s port %u did not accept a connection within "
                               "%d second. A firewall, or your internet "
                               "provider, may be blocking this port.",
                               "%s port %u did not accept a connection within "
                               "%d seconds. A firewall, or your internet "
                               "provider, may be blocking this port.",
                               seconds),
                     host, port, seconds);
      else if (other_errno == ENETUNREACH || other_errno == EHOSTUNREACH)
        g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                     _("%s port %u cannot be reached (%s). Check this "
                       "computer's internet connection."),
                     host, port, g_strerror (other_errno));
      else
        g_set_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED,
                     _("Could not connect to %s port %u: %s. Check this "
                       "computer's internet connection."),
                     host, port, g_strerror (other_errno));
      return NULL;
    }

  conn = g_new0 (MsConnection, 1);
  conn->host = g_strdup (host);
  conn->port = port;
  conn->fd = fd;
  conn->started = started;
  conn->step = _("connecting");
  conn->buf = g_malloc (BUFFER_SIZE);
  conn->first_tls_byte = -1;

  return conn;
}

void
ms_connection_free (MsConnection *conn)
{
  if (conn == NULL)
    return;

  if (conn->ssl != NULL)
    {
      /* One polite close_notify if it fits; never wait for it. */
      if (conn->tls_up)
        SSL_shutdown (conn->ssl);
      SSL_free (conn->ssl);
      ERR_clear_error ();
    }
  if (conn->fd >= 0)
    close (conn->fd);
  if (conn->verify_cert != NULL)
    X509_free (conn->verify_cert);

  OPENSSL_cleanse (conn->buf, BUFFER_SIZE);
  g_free (conn->buf);
  ms_tls_info_clear (&conn->tls_info);
  g_free (conn->host);
  g_free (conn);
}

const char *
ms_connection_get_host (MsConnection *conn)
{
  return conn->host;
}

guint16
ms_connection_get_port (MsConnection *conn)
{
  return conn->port;
}

void
ms_connection_set_step (MsConnection *conn,
                        const char *step)
{
  conn->step = step;
}

gsize
ms_connection_get_pending_plaintext (MsConnection *conn)
{
  return conn->end - conn->start;
}

gboolean
ms_connection_socket_has_data (MsConnection *conn)
{
  char byte;
  ssize_t n;

  do
    n = recv (conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  return n > 0;
}

guint64
ms_connection_get_bytes_read (MsConnection *conn)
{
  return conn->bytes_read;
}

/* ---- reading and writing ---- */

/* Reads at least one more byte into the buffer. */
static gboolean
fill_buffer (MsConnection *conn,
             gint64 deadline,
             GCancellable *cancellable,
             GError **error)
{
  for (;;)
    {
      char *dest = conn->buf + conn->end;
      gsize space = BUFFER_SIZE - conn->end;
      short events = POLLIN;

      g_assert (space > 0);

      if (conn->ssl != NULL)
        {
          int n, ssl_error;

          ERR_clear_error ();
          n = SSL_read (conn->ssl, dest, (int) MIN (space, INT_MAX));
          if (n > 0)
            {
              conn->end += n;
              return TRUE;
            }

          ssl_error = SSL_get_error (conn->ssl, n);
          if (ssl_error == SSL_ERROR_WANT_WRITE)
            events = POLLOUT;
          else if (ssl_error == SSL_ERROR_ZERO_RETURN
                   || (ssl_error == SSL_ERROR_SYSCALL && conn->io_errno == 0))
            {
              set_closed_error (conn, error);
              return FALSE;
            }
          else if (ssl_error == SSL_ERROR_SYSCALL)
            {
              set_io_error (conn, conn->io_errno, error);
              return FALSE;
            }
          else if (ssl_error != SSL_ERROR_WANT_READ)
            {
              set_tls_error (conn, error);
              return FALSE;
            }
        }
      else
        {
          ssize_t n = recv (conn->fd, dest, space, MSG_DONTWAIT);

          if (n > 0)
            {
              conn->end += n;
              return TRUE;
            }
          if (n == 0)
            {
              set_closed_error (conn, error);
              return FALSE;
            }
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            {
              set_io_error (conn, errno, error);
              return FALSE;
            }
        }

      if (!wait_conn (conn, events, deadline, cancellable, error))
        return FALSE;
    }
}

static void
set_line_too_long_error (MsConnection *conn,
                         GError **error)
{
  g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
               _("%s port %u sent a line longer than %d bytes (%s). This is "
                 "not a mail server mailsetup can talk to."),
               conn->host, conn->port, MS_CONNECTION_MAX_LINE, conn->step);
}

char *
ms_connection_read_line (MsConnection *conn,
                         gint64 deadline,
                         GCancellable *cancellable,
                         GError **error)
{
  gsize scanned = 0;

  for (;;)
    {
      char *begin = conn->buf + conn->start;
      gsize available = conn->end - conn->start;
      char *newline = memchr (begin + scanned, '\n', available - scanned);

      if (newline != NULL)
        {
          gsize raw_len = newline - begin + 1;
          gsize len = raw_len - 1;

          if (len > 0 && begin[len - 1] == '\r')
            len--;
          if (len > MS_CONNECTION_MAX_LINE)
            {
              set_line_too_long_error (conn, error);
              return NULL;
            }
          if (memchr (begin, '\0', len) != NULL)
            {
              g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                           _("%s port %u sent binary data where text was "
                             "expected (%s). This is not a mail server "
                             "mailsetup can talk to."),
                           conn->host, conn->port, conn->step);
              return NULL;
            }

          conn->start += raw_len;
          conn->bytes_read += raw_len;
          if (conn->start == conn->end)
            conn->start = conn->end = 0;
          return g_strndup (begin, len);
        }

      /* The longest acceptable line is still unterminated only while it
       * has at most its own bytes and a CR. */
      if (available > MS_CONNECTION_MAX_LINE + 1)
        {
          set_line_too_long_error (conn, error);
          return NULL;
        }

      scanned = available;
      if (conn->start > 0)
        {
          memmove (conn->buf, begin, available);
          conn->start = 0;
          conn->end = available;
        }

      if (!fill_buffer (conn, deadline, cancellable, error))
        return NULL;
    }
}

gboolean
ms_connection_write (MsConnection *conn,
                     const char *data,
                     gsize len,
                     gint64 deadline,
                     GCancellable *cancellable,
                     GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      short events = POLLOUT;

      if (g_cancellable_is_cancelled (cancellable))
        {
          set_cancelled_error (conn->host, conn->port, error);
          return FALSE;
        }

      if (conn->ssl != NULL)
        {
          /* A retried SSL_write must repeat the same arguments. */
          int chunk = (int) MIN (len - done, 16384);
          int n, ssl_error;

          ERR_clear_error ();
          n = SSL_write (conn->ssl, data + done, chunk);
          if (n > 0)
            {
              done += n;
              continue;
            }

          ssl_error = SSL_get_error (conn->ssl, n);
          if (ssl_error == SSL_ERROR_WANT_READ)
            events = POLLIN;
          else if (ssl_error == SSL_ERROR_ZERO_RETURN)
            {
              set_closed_error (conn, error);
              return FALSE;
            }
          else if (ssl_error == SSL_ERROR_SYSCALL)
            {
              set_io_error (conn, conn->io_errno != 0 ? conn->io_errno : EPIPE,
                            error);
              return FALSE;
            }
          else if (ssl_error != SSL_ERROR_WANT_WRITE)
            {
              set_tls_error (conn, error);
              return FALSE;
            }
        }
      else
        {
          ssize_t n = send (conn->fd, data + done, len - done,
                            MSG_NOSIGNAL | MSG_DONTWAIT);

          if (n >= 0)
            {
              done += n;
              continue;
            }
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            {
              set_io_error (conn, errno, error);
              return FALSE;
            }
        }

      if (!wait_conn (conn, events, deadline, cancellable, error))
        return FALSE;
    }

  return TRUE;
}
