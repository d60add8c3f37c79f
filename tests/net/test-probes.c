/* test-probes.c: the IMAP and SMTP probes against real Dovecot and against
 * scripted fault servers (tests/servers/)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "connection.h"
#include "imap-probe.h"
#include "mailsetup-error.h"
#include "smtp-probe.h"

#define PASSWORD "abcd-efgh-ijkl-mnop"
#define USER "jane@icloud.com"
#define WRONG_PASSWORD "wxyz-wxyz-wxyz-wxyz"

/* Tests that expect a time-out use this; the rest have room to spare. */
#define SHORT_DEADLINE_MS 1500
#define LONG_DEADLINE_MS 15000
/* A server that misbehaves at once is turned away well within this, even
 * in a sanitizer build (it is usually a few milliseconds). */
#define QUICK_FAILURE_US (5 * G_USEC_PER_SEC)

static const char *python;
static const char *servers_dir;
static char *tmp_dir;
static char *cert_dir;

static GSubprocess *dovecot;
static struct {
  guint16 imaps;
  guint16 imap_starttls;
  guint16 submission;
  guint16 submissions;
} dv;

/* Every server subprocess still running, so none outlives the tests. */
static GPtrArray *running;

/* Secrets the tests use; the log writer watches for them. */
static const char *const secrets[] = {
  PASSWORD, WRONG_PASSWORD, "p\xc3\xa4sswort-lit", "qu\"ote\\back",
};
static gboolean secret_logged;
static guint debug_messages_seen;

/* While non-NULL, the probes' conversation as they log it, one "C: …" or
 * "S: …" line each (what carries credentials reads "<hidden>"). */
static GPtrArray *transcript;
G_LOCK_DEFINE_STATIC (transcript);

/* ---- servers ---- */

static void
die_with_parent (gpointer user_data)
{
  /* If the test process dies (a crash, an abort), its servers follow. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts @argv and returns its first line of output, or NULL. */
static GSubprocess *
spawn_server (const char *const *argv,
              char **first_line)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) out = NULL;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  if (proc == NULL)
    return NULL;
  g_ptr_array_add (running, g_object_ref (proc));

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  *first_line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&proc);
}

static void
stop_server (GSubprocess *proc)
{
  if (proc == NULL)
    return;
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);
  g_ptr_array_remove (running, proc);
}

static void
stop_all_servers (void)
{
  while (running != NULL && running->len > 0)
    stop_server (running->pdata[running->len - 1]);
}

static guint16
json_port (const char *json,
           const char *key)
{
  g_autofree char *quoted = g_strdup_printf ("\"%s\":", key);
  const char *at = json != NULL ? strstr (json, quoted) : NULL;

  return at != NULL ? (guint16) g_ascii_strtoull (at + strlen (quoted), NULL, 10) : 0;
}

static gboolean
have_dovecot (void)
{
  if (dovecot == NULL)
    {
      g_test_skip ("Dovecot did not start");
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  GSubprocess *proc;
  guint16 port;
  char *record_path;
} FaultServer;

/* @cert: NULL for the good one; @tls: NULL for the scenario's default;
 * @host: NULL for 127.0.0.1. */
static FaultServer *
fault_start_at (const char *scenario,
                const char *cert,
                const char *tls,
                const char *password,
                const char *host)
{
  static guint counter;
  FaultServer *server = g_new0 (FaultServer, 1);
  g_autofree char *script = g_build_filename (servers_dir, "fault-server.py", NULL);
  g_autofree char *line = NULL;
  g_autofree char *record_name = g_strdup_printf ("record-%u.txt", ++counter);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  server->record_path = g_build_filename (tmp_dir, record_name, NULL);
  g_ptr_array_add (argv, (char *) python);
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, "--scenario");
  g_ptr_array_add (argv, (char *) scenario);
  g_ptr_array_add (argv, "--certs");
  g_ptr_array_add (argv, cert_dir);
  g_ptr_array_add (argv, "--cert");
  g_ptr_array_add (argv, (char *) (cert != NULL ? cert : "good"));
  g_ptr_array_add (argv, "--user");
  g_ptr_array_add (argv, USER);
  g_ptr_array_add (argv, "--password");
  g_ptr_array_add (argv, (char *) (password != NULL ? password : PASSWORD));
  g_ptr_array_add (argv, "--record");
  g_ptr_array_add (argv, server->record_path);
  if (tls != NULL)
    {
      g_ptr_array_add (argv, "--tls");
      g_ptr_array_add (argv, (char *) tls);
    }
  if (host != NULL)
    {
      g_ptr_array_add (argv, "--host");
      g_ptr_array_add (argv, (char *) host);
    }
  g_ptr_array_add (argv, NULL);

  server->proc = spawn_server ((const char *const *) argv->pdata, &line);
  if (line == NULL || !g_str_has_prefix (line, "PORT "))
    g_error ("fault-server.py %s did not start (said “%s”)", scenario,
             line != NULL ? line : "nothing");
  server->port = (guint16) g_ascii_strtoull (line + 5, NULL, 10);
  g_assert_cmpuint (server->port, >, 0);

  return server;
}

static FaultServer *
fault_start_full (const char *scenario,
                  const char *cert,
                  const char *tls,
                  const char *password)
{
  return fault_start_at (scenario, cert, tls, password, NULL);
}

static FaultServer *
fault_start (const char *scenario)
{
  return fault_start_full (scenario, NULL, NULL, NULL);
}

/* Stops the server and returns what the client sent it (transfer full). */
static char *
fault_stop (FaultServer *server)
{
  char *record = NULL;

  stop_server (server->proc);
  g_clear_object (&server->proc);
  if (!g_file_get_contents (server->record_path, &record, NULL, NULL))
    record = g_strdup ("");
  g_free (server->record_path);
  g_free (server);

  return record;
}

/* Asserts that nothing in @record is or encodes @password. */
static void
assert_no_credentials (const char *record,
                       const char *password)
{
  g_autofree char *plain = NULL;
  g_autofree char *pass64 = g_base64_encode ((const guchar *) password,
                                             strlen (password));
  g_autofree char *sasl = g_strdup_printf ("_%s_%s", USER, password);
  gsize sasl_len = strlen (sasl);

  sasl[0] = sasl[strlen (USER) + 1] = '\0';
  plain = g_base64_encode ((const guchar *) sasl, sasl_len);

  if (strstr (record, password) != NULL || strstr (record, pass64) != NULL
      || strstr (record, plain) != NULL)
    g_test_fail_printf ("the server saw the password:\n%s", record);
  if (strstr (record, "LOGIN") != NULL || strstr (record, "AUTH") != NULL)
    g_test_fail_printf ("the client tried to log in:\n%s", record);
}

/* ---- running probes ---- */

typedef struct {
  gboolean ok;
  GError *error;
  MsProbeResult result;
  GPtrArray *stages;
  gint64 elapsed_us;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_error (&outcome->error);
  ms_probe_result_clear (&outcome->result);
  g_clear_pointer (&outcome->stages, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Outcome, outcome_clear)

static void
record_stage (const char *stage,
              gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (stage));
}

typedef enum {
  IMAP,
  SMTP,
} Protocol;

static void
run_probe_full (Outcome *outcome,
                Protocol protocol,
                const char *host,
                guint16 port,
                MsSecurity security,
                const char *username,
                const char *password,
                int deadline_ms,
                GCancellable *cancellable)
{
  gint64 start = g_get_monotonic_time ();
  MsProbeRequest req = {
    .host = host,
    .port = port,
    .security = security,
    .username = username,
    .password = password,
    .deadline = start + (gint64) deadline_ms * 1000,
    .stage_cb = record_stage,
  };

  outcome->stages = g_ptr_array_new_with_free_func (g_free);
  req.user_data = outcome->stages;

  if (protocol == IMAP)
    outcome->ok = ms_imap_probe_run (&req, &outcome->result, cancellable,
                                     &outcome->error);
  else
    outcome->ok = ms_smtp_probe_run (&req, &outcome->result, cancellable,
                                     &outcome->error);
  outcome->elapsed_us = g_get_monotonic_time () - start;

  /* A failure carries an error and vice versa. */
  g_assert_true (outcome->ok == (outcome->error == NULL));
  if (outcome->error != NULL)
    g_test_message ("%s %s:%u: %s", protocol == IMAP ? "IMAP" : "SMTP", host,
                    port, outcome->error->message);
}

static void
run_probe (Outcome *outcome,
           Protocol protocol,
           guint16 port,
           MsSecurity security,
           const char *password,
           int deadline_ms)
{
  run_probe_full (outcome, protocol, "localhost", port, security, USER,
                  password, deadline_ms, NULL);
}

static void
assert_stages (Outcome *outcome,
               const char *const *expected)
{
  g_ptr_array_add (outcome->stages, NULL);
  g_assert_cmpstrv ((const char *const *) outcome->stages->pdata, expected);
  g_ptr_array_set_size (outcome->stages, outcome->stages->len - 1);
}

static void
assert_message_has (const GError *error,
                    const char *text)
{
  if (error != NULL && strstr (error->message, text) == NULL)
    g_test_fail_printf ("message “%s” lacks “%s”", error->message, text);
}

static void
assert_tls_info (const MsTlsInfo *tls)
{
  g_assert_nonnull (tls->version);
  g_assert_true (g_str_has_prefix (tls->version ? tls->version : "", "TLSv1."));
  g_assert_cmpstr (tls->version, !=, "TLSv1.1");
  g_assert_nonnull (tls->cipher);
  g_assert_cmpstr (tls->subject, ==, "CN=localhost");
  g_assert_cmpstr (tls->issuer, ==, "CN=mailsetup test CA");
  /* 32 bytes as "AB:" triples, less the last colon. */
  g_assert_cmpuint (tls->fingerprint ? strlen (tls->fingerprint) : 0, ==, 32 * 3 - 1);
  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$",
                                       tls->fingerprint ? tls->fingerprint : "", 0, 0));
  g_assert_cmpint (tls->not_after, >, g_get_real_time () / G_USEC_PER_SEC);
}

static gboolean
strv_has (GStrv strv,
          const char *item)
{
  return strv != NULL && g_strv_contains ((const char *const *) strv, item);
}

static const char *const tls_stages[] = {
  "connecting", "tls", "greeting", "authenticating", "done", NULL
};
static const char *const starttls_stages[] = {
  "connecting", "greeting", "tls", "authenticating", "done", NULL
};

/* ---- against Dovecot ---- */

static void
test_dovecot_imap_tls (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  run_probe (&o, IMAP, dv.imaps, MS_SECURITY_TLS, PASSWORD, LONG_DEADLINE_MS);
  g_assert_no_error (o.error);
  g_assert_true (o.result.authenticated);
  g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
  assert_tls_info (&o.result.tls);
  g_assert_true (strv_has (o.result.capabilities, "IMAP4rev1"));
  g_assert_cmpint (o.result.elapsed_us, >, 0);
  g_assert_cmpint (o.result.elapsed_us, <=, o.elapsed_us);
  assert_stages (&o, tls_stages);
}

static void
test_dovecot_imap_starttls (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  /* The user known only by its local part, and an IP literal (no SNI, the
   * address checked against the certificate's IP entries). */
  run_probe_full (&o, IMAP, "127.0.0.1", dv.imap_starttls,
                  MS_SECURITY_STARTTLS, "john", PASSWORD, LONG_DEADLINE_MS,
                  NULL);
  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
  assert_tls_info (&o.result.tls);
  /* Capabilities are the ones asked for again over TLS. */
  g_assert_false (strv_has (o.result.capabilities, "STARTTLS"));
  assert_stages (&o, starttls_stages);
}

static void
test_dovecot_imap_wrong_password (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  run_probe (&o, IMAP, dv.imaps, MS_SECURITY_TLS, WRONG_PASSWORD, LONG_DEADLINE_MS);
  g_assert_error (o.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
  assert_message_has (o.error, USER);
  g_assert_false (o.result.authenticated);
  /* What was learnt before the failure is still reported. */
  assert_tls_info (&o.result.tls);
}

static void
test_dovecot_imap_literal (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  /* 8-bit: goes as a literal; Dovecot must understand the command and
   * merely refuse the password. */
  run_probe (&o, IMAP, dv.imaps, MS_SECURITY_TLS, "p\xc3\xa4sswort-lit",
             LONG_DEADLINE_MS);
  g_assert_error (o.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
}

static void
test_dovecot_smtp_starttls (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  run_probe (&o, SMTP, dv.submission, MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "PLAIN");
  g_assert_cmpuint (o.result.max_message_size, ==, 20971520);
  assert_tls_info (&o.result.tls);
  g_assert_true (strv_has (o.result.capabilities, "SIZE 20971520"));
  g_assert_false (strv_has (o.result.capabilities, "STARTTLS"));
  assert_stages (&o, starttls_stages);
}

static void
test_dovecot_smtp_tls (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  run_probe_full (&o, SMTP, "localhost", dv.submissions, MS_SECURITY_TLS,
                  "john", PASSWORD, LONG_DEADLINE_MS, NULL);
  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "PLAIN");
  assert_stages (&o, tls_stages);
}

static void
test_dovecot_smtp_wrong_password (void)
{
  g_auto(Outcome) o = { 0 };

  if (!have_dovecot ())
    return;

  run_probe (&o, SMTP, dv.submission, MS_SECURITY_STARTTLS, WRONG_PASSWORD,
             LONG_DEADLINE_MS);
  g_assert_error (o.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
}

/* The implicit-TLS port asked for STARTTLS and the other way round. */
static void
test_dovecot_wrong_security (void)
{
  g_auto(Outcome) a = { 0 };
  g_auto(Outcome) b = { 0 };

  if (!have_dovecot ())
    return;

  run_probe (&a, SMTP, dv.submission, MS_SECURITY_TLS, PASSWORD, LONG_DEADLINE_MS);
  g_assert_error (a.error, MS_ERROR, MS_ERROR_TLS_FAILED);
  run_probe (&b, IMAP, dv.imaps, MS_SECURITY_STARTTLS, PASSWORD, SHORT_DEADLINE_MS);
  g_assert_nonnull (b.error);
  g_assert_false (b.ok);
}

/* Not a correctness test: how long a good probe takes, for the record. */
static void
test_dovecot_timing (void)
{
  const guint rounds = 10;
  struct {
    const char *name;
    Protocol protocol;
    MsSecurity security;
    guint16 *port;
  } kinds[] = {
    { "IMAP 993-style", IMAP, MS_SECURITY_TLS, &dv.imaps },
    { "IMAP STARTTLS", IMAP, MS_SECURITY_STARTTLS, &dv.imap_starttls },
    { "SMTP 587-style", SMTP, MS_SECURITY_STARTTLS, &dv.submission },
    { "SMTP 465-style", SMTP, MS_SECURITY_TLS, &dv.submissions },
  };

  if (!have_dovecot ())
    return;

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      gint64 total = 0, total_wall = 0, worst = 0;

      for (guint i = 0; i < rounds; i++)
        {
          g_auto(Outcome) o = { 0 };

          run_probe (&o, kinds[k].protocol, *kinds[k].port, kinds[k].security,
                     PASSWORD, LONG_DEADLINE_MS);
          g_assert_no_error (o.error);
          total += o.result.elapsed_us;
          total_wall += o.elapsed_us;
          worst = MAX (worst, o.result.elapsed_us);
        }
      g_test_message ("%s: login verdict after %.1f ms on average (worst "
                      "%.1f ms), %.1f ms including LOGOUT/QUIT",
                      kinds[k].name, total / 1000.0 / rounds, worst / 1000.0,
                      total_wall / 1000.0 / rounds);
    }
}

/* ---- iCloud's quirks ---- */

static void
test_icloud_ok (void)
{
  FaultServer *server = fault_start ("imap-icloud");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, PASSWORD, LONG_DEADLINE_MS);
  record = fault_stop (server);

  /* No AUTH=LOGIN advertised, yet LOGIN is used; "OK !!" is success. */
  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
  /* The trailing space before "]" leaves no empty capability. */
  g_assert_true (strv_has (o.result.capabilities, "AUTH=PLAIN"));
  g_assert_false (strv_has (o.result.capabilities, ""));
  g_assert_nonnull (strstr (record, "LOGOUT"));
  assert_stages (&o, tls_stages);
}

static void
test_icloud_starttls (void)
{
  FaultServer *server = fault_start_full ("imap-icloud", NULL, "plain", NULL);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  /* LOGINDISABLED before TLS, gone after it: LOGIN over TLS. */
  run_probe (&o, IMAP, server->port, MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
  g_assert_false (strv_has (o.result.capabilities, "LOGINDISABLED"));
  assert_stages (&o, starttls_stages);
}

static void
test_icloud_wrong_password (void)
{
  FaultServer *server = fault_start ("imap-icloud");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  /* "NO [AUTHENTICATIONFAILED] Authentication Failed", then a hang-up. */
  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, WRONG_PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
  assert_message_has (o.error, "Authentication Failed");
  /* One attempt only: no AUTHENTICATE PLAIN after the failed LOGIN. */
  g_assert_null (strstr (record, "AUTHENTICATE"));
}

static void
test_icloud_quoting (void)
{
  const char *password = "qu\"ote\\back";
  FaultServer *server = fault_start_full ("imap-icloud", NULL, NULL, password);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, password, LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_no_error (o.error);
  g_assert_nonnull (strstr (record, "\"qu\\\"ote\\\\back\""));
}

static void
test_icloud_literal (void)
{
  const char *password = "p\xc3\xa4sswort-lit";
  FaultServer *server = fault_start_full ("imap-icloud", NULL, NULL, password);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  /* A synchronising literal answered by iCloud's bare "+". */
  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, password, LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_no_error (o.error);
  g_assert_nonnull (strstr (record, "{13}"));
}

/* Hang-up after a failed login: the next user name needs, and gets, a
 * fresh connection. */
static void
test_hangup_first (void)
{
  FaultServer *server = fault_start ("imap-hangup-first");
  g_auto(Outcome) first = { 0 };
  g_auto(Outcome) second = { 0 };
  g_autofree char *record = NULL;

  run_probe_full (&first, IMAP, "localhost", server->port, MS_SECURITY_TLS,
                  "jane", PASSWORD, LONG_DEADLINE_MS, NULL);
  run_probe_full (&second, IMAP, "localhost", server->port, MS_SECURITY_TLS,
                  USER, PASSWORD, LONG_DEADLINE_MS, NULL);
  record = fault_stop (server);

  g_assert_error (first.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
  assert_message_has (first.error, "jane");
  g_assert_no_error (second.error);
}

/* ---- service and protocol failures ---- */

static void
test_imap_bye (void)
{
  FaultServer *server = fault_start ("imap-bye");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, PASSWORD, LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE);
  assert_message_has (o.error, "apple.com/support/systemstatus");
  assert_message_has (o.error, "Service temporarily unavailable");
  assert_no_credentials (record, PASSWORD);
}

static void
test_smtp_421 (void)
{
  FaultServer *server = fault_start ("smtp-421");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, SMTP, server->port, MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE);
  assert_message_has (o.error, "421");
  assert_no_credentials (record, PASSWORD);
}

/* A scenario that must end in @code, with no credentials sent. */
static void
check_failure (const char *scenario,
               const char *tls,
               Protocol protocol,
               MsSecurity security,
               int deadline_ms,
               MsError code,
               gboolean credentials_safe)
{
  FaultServer *server = fault_start_full (scenario, NULL, tls, NULL);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, protocol, server->port, security, PASSWORD, deadline_ms);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, (int) code);
  /* Every wait ends at the deadline, not some while after it. */
  g_assert_cmpint (o.elapsed_us, <, (gint64) deadline_ms * 1000 + 500000);
  if (credentials_safe)
    assert_no_credentials (record, PASSWORD);
}

/* A scenario that must end in @code at once, long before the deadline,
 * with @message_part in the message and no credentials sent.  Returns what
 * the client sent (transfer full). */
static char *
check_quick_failure (Outcome *o,
                     const char *scenario,
                     const char *cert,
                     const char *tls,
                     Protocol protocol,
                     MsSecurity security,
                     MsError code,
                     const char *message_part)
{
  FaultServer *server = fault_start_full (scenario, cert, tls, NULL);
  char *record;

  run_probe (o, protocol, server->port, security, PASSWORD, LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_error (o->error, MS_ERROR, (int) code);
  assert_message_has (o->error, message_part);
  g_assert_cmpint (o->elapsed_us, <, QUICK_FAILURE_US);
  assert_no_credentials (record, PASSWORD);

  return record;
}

static void
test_imap_silent (void)
{
  check_failure ("imap-silent", NULL, IMAP, MS_SECURITY_STARTTLS,
                 SHORT_DEADLINE_MS, MS_ERROR_TIMEOUT, TRUE);
}

static void
test_tls_handshake_silent (void)
{
  /* A plain server that never answers the ClientHello. */
  check_failure ("imap-silent", NULL, IMAP, MS_SECURITY_TLS,
                 SHORT_DEADLINE_MS, MS_ERROR_TIMEOUT, TRUE);
}

static void
test_tls_silent (void)
{
  /* TLS comes up, then not a word. */
  check_failure ("tls-silent", NULL, IMAP, MS_SECURITY_TLS,
                 SHORT_DEADLINE_MS, MS_ERROR_TIMEOUT, TRUE);
}

static void
test_smtp_silent (void)
{
  check_failure ("smtp-silent", NULL, SMTP, MS_SECURITY_STARTTLS,
                 SHORT_DEADLINE_MS, MS_ERROR_TIMEOUT, TRUE);
}

static void
test_imap_trickle (void)
{
  /* A byte a second: each read succeeds, the deadline still holds. */
  check_failure ("imap-trickle", NULL, IMAP, MS_SECURITY_TLS, 2500,
                 MS_ERROR_TIMEOUT, TRUE);
}

static void
test_imap_longline (void)
{
  check_failure ("imap-longline", NULL, IMAP, MS_SECURITY_TLS,
                 LONG_DEADLINE_MS, MS_ERROR_PROTOCOL_ERROR, TRUE);
}

static void
test_imap_flood (void)
{
  /* The flood starts after the login, so credentials did go out (over
   * verified TLS). */
  check_failure ("imap-flood", NULL, IMAP, MS_SECURITY_TLS, LONG_DEADLINE_MS,
                 MS_ERROR_PROTOCOL_ERROR, FALSE);
}

static void
test_imap_garbage (void)
{
  check_failure ("imap-garbage", NULL, IMAP, MS_SECURITY_TLS,
                 LONG_DEADLINE_MS, MS_ERROR_PROTOCOL_ERROR, TRUE);
}

static void
test_smtp_longreply (void)
{
  check_failure ("smtp-longreply", NULL, SMTP, MS_SECURITY_STARTTLS,
                 LONG_DEADLINE_MS, MS_ERROR_PROTOCOL_ERROR, TRUE);
}

static void
test_smtp_longline (void)
{
  g_auto(Outcome) o = { 0 };
  g_auto(Outcome) o2 = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;

  /* A 1 MiB greeting, before STARTTLS and with implicit TLS. */
  record = check_quick_failure (&o, "smtp-longline", NULL, NULL, SMTP,
                                MS_SECURITY_STARTTLS, MS_ERROR_PROTOCOL_ERROR,
                                "longer than 65536 bytes");
  g_assert_cmpstr (record, ==, "");
  record2 = check_quick_failure (&o2, "smtp-longline", NULL, "implicit", SMTP,
                                 MS_SECURITY_TLS, MS_ERROR_PROTOCOL_ERROR,
                                 "longer than 65536 bytes");
  g_assert_cmpstr (record2, ==, "");
}

static void
test_smtp_flood (void)
{
  g_auto(Outcome) o = { 0 };
  /* "220-" continuation lines that never end. */
  g_autofree char *record =
    check_quick_failure (&o, "smtp-flood", NULL, NULL, SMTP, MS_SECURITY_STARTTLS,
                         MS_ERROR_PROTOCOL_ERROR, "overlong reply");

  g_assert_cmpstr (record, ==, "");
}

/* ---- renegotiation ----
 *
 * The probes refuse it (SSL_OP_NO_RENEGOTIATION) with a no_renegotiation
 * warning alert, to which an OpenSSL server (the fault server's, here)
 * answers with a fatal handshake_failure alert.  The session that was
 * refused to change is the verified TLS 1.2 one. */

static void
test_renegotiate_before_greeting (void)
{
  g_auto(Outcome) o = { 0 };
  g_autofree char *record =
    check_quick_failure (&o, "tls-renegotiate", NULL, NULL, IMAP, MS_SECURITY_TLS,
                         MS_ERROR_TLS_FAILED, "handshake failure");

  g_assert_cmpstr (record, ==, "");
  g_assert_cmpstr (o.result.tls.version, ==, "TLSv1.2");
}

static void
test_imap_renegotiate (void)
{
  g_auto(Outcome) o = { 0 };
  /* The greeting has no capabilities; the HelloRequest answers the
   * CAPABILITY command, and nothing more is sent. */
  g_autofree char *record =
    check_quick_failure (&o, "imap-renegotiate", NULL, NULL, IMAP, MS_SECURITY_TLS,
                         MS_ERROR_TLS_FAILED, "handshake failure");

  g_assert_cmpstr (record, ==, "ms1 CAPABILITY\n");
  g_assert_cmpstr (o.result.tls.version, ==, "TLSv1.2");
}

static void
test_smtp_renegotiate (void)
{
  g_auto(Outcome) o = { 0 };
  g_auto(Outcome) o2 = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;

  /* The HelloRequest answers the EHLO over TLS, before any AUTH. */
  record = check_quick_failure (&o, "smtp-renegotiate", NULL, NULL, SMTP,
                                MS_SECURITY_STARTTLS, MS_ERROR_TLS_FAILED,
                                "handshake failure");
  g_assert_true (g_regex_match_simple ("^EHLO \\S+\nSTARTTLS\nEHLO \\S+\n$",
                                       record, 0, 0));
  record2 = check_quick_failure (&o2, "smtp-renegotiate", NULL, "implicit", SMTP,
                                 MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                 "handshake failure");
  g_assert_true (g_regex_match_simple ("^EHLO \\S+\n$", record2, 0, 0));
}

static void
test_smtp_454 (void)
{
  check_failure ("smtp-454", NULL, SMTP, MS_SECURITY_STARTTLS,
                 LONG_DEADLINE_MS, MS_ERROR_TLS_FAILED, TRUE);
}

static void
test_smtp_no_starttls (void)
{
  check_failure ("smtp-no-starttls", NULL, SMTP, MS_SECURITY_STARTTLS,
                 LONG_DEADLINE_MS, MS_ERROR_STARTTLS_UNAVAILABLE, TRUE);
}

static void
test_smtp_starttls_inject (void)
{
  check_failure ("smtp-starttls-inject", NULL, SMTP, MS_SECURITY_STARTTLS,
                 LONG_DEADLINE_MS, MS_ERROR_PROTOCOL_ERROR, TRUE);
}

static void
test_smtp_authfail (void)
{
  check_failure ("smtp-authfail", NULL, SMTP, MS_SECURITY_STARTTLS,
                 LONG_DEADLINE_MS, MS_ERROR_AUTHENTICATION_FAILED, FALSE);
}

static void
test_smtp_starttls_ok (void)
{
  FaultServer *server = fault_start ("smtp-starttls-ok");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, SMTP, server->port, MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_no_error (o.error);
  g_assert_cmpstr (o.result.mechanism, ==, "PLAIN");
  g_assert_cmpuint (o.result.max_message_size, ==, 20971520);
  g_assert_nonnull (strstr (record, "QUIT"));
  assert_stages (&o, starttls_stages);
}

static void
test_smtps_ok (void)
{
  FaultServer *server = fault_start ("smtps-ok");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe (&o, SMTP, server->port, MS_SECURITY_TLS, PASSWORD, LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_no_error (o.error);
  g_assert_cmpuint (o.result.max_message_size, ==, 20971520);
  assert_stages (&o, tls_stages);
}

/* ---- login mechanisms ----
 *
 * LOGIN is the probes' first choice (iCloud's AUTHENTICATE PLAIN can fail
 * where LOGIN works); these servers forbid it (LOGINDISABLED over TLS) or
 * offer SMTP AUTH LOGIN only, so the other paths run. */

static void
transcript_start (void)
{
  G_LOCK (transcript);
  g_clear_pointer (&transcript, g_ptr_array_unref);
  transcript = g_ptr_array_new_with_free_func (g_free);
  G_UNLOCK (transcript);
}

/* Stops recording; returns the lines, each ending in "\n" (transfer full). */
static char *
transcript_stop (void)
{
  GString *text = g_string_new (NULL);

  G_LOCK (transcript);
  for (guint i = 0; transcript != NULL && i < transcript->len; i++)
    g_string_append_printf (text, "%s\n", (const char *) transcript->pdata[i]);
  g_clear_pointer (&transcript, g_ptr_array_unref);
  G_UNLOCK (transcript);

  return g_string_free (text, FALSE);
}

static void
assert_has_text (const char *text,
                 const char *part)
{
  if (strstr (text, part) == NULL)
    g_test_fail_printf ("“%s” lacks “%s”", text, part);
}

static char *
base64_of (const char *text)
{
  return g_base64_encode ((const guchar *) text, strlen (text));
}

/* base64 of the SASL PLAIN message "\0USER\0@password" (RFC 4616). */
static char *
sasl_plain_of (const char *password)
{
  g_autofree char *message = g_strdup_printf ("_%s_%s", USER, password);
  gsize len = strlen (message);

  message[0] = message[strlen (USER) + 1] = '\0';
  return g_base64_encode ((const guchar *) message, len);
}

/* @encoded decodes to exactly @len bytes of @expected. */
static void
assert_decodes_to (const char *encoded,
                   const char *expected,
                   gsize len)
{
  g_autofree char *copy = g_strdup (encoded);
  gsize decoded_len = 0;
  g_autofree guchar *decoded = g_base64_decode (copy, &decoded_len);

  g_assert_cmpmem (decoded, decoded_len, expected, len);
}

/* The line of @record after the one that starts with @prefix, with that
 * prefix taken off when @same_line (transfer full; "" if missing). */
static char *
record_argument (const char *record,
                 const char *prefix,
                 gboolean same_line)
{
  g_auto(GStrv) lines = g_strsplit (record, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      {
        if (same_line)
          return g_strdup (lines[i] + strlen (prefix));
        return g_strdup (lines[i + 1] != NULL ? lines[i + 1] : "");
      }

  return g_strdup ("");
}

/* No "tag LOGIN …" command went out. */
static void
assert_no_login_command (const char *record)
{
  if (g_regex_match_simple ("^\\S+ LOGIN( |$)", record,
                            G_REGEX_MULTILINE | G_REGEX_CASELESS, 0))
    g_test_fail_printf ("the client sent LOGIN:\n%s", record);
}

typedef struct {
  const char *path;
  const char *scenario;
  const char *tls;            /* "plain" for STARTTLS, NULL: implicit */
  /* The server's continuation request as the probe logs it, or NULL for
   * SASL-IR (the response goes on the AUTHENTICATE line). */
  const char *continuation;
} AuthPlainCase;

static const AuthPlainCase auth_plain_cases[] = {
  { "/net/imap/authenticate-plain/sasl-ir", "imap-authplain-ir", NULL, NULL },
  { "/net/imap/authenticate-plain/sasl-ir-starttls", "imap-authplain-ir", "plain", NULL },
  { "/net/imap/authenticate-plain/continuation", "imap-authplain", NULL, "+" },
  { "/net/imap/authenticate-plain/continuation-space", "imap-authplain-space", NULL, "+ " },
  { "/net/imap/authenticate-plain/continuation-starttls", "imap-authplain", "plain", "+" },
};

/* LOGINDISABLED over TLS, AUTH=PLAIN: AUTHENTICATE PLAIN, with the initial
 * response on its line when SASL-IR is offered and after the server's
 * "+" (bare, or "+ ") when not. */
static void
test_authenticate_plain (gconstpointer data)
{
  const AuthPlainCase *c = data;
  gboolean starttls = c->tls != NULL;
  FaultServer *server = fault_start_full (c->scenario, NULL, c->tls, NULL);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *log = NULL;
  g_autofree char *plain = sasl_plain_of (PASSWORD);
  g_autofree char *expected_record = NULL;
  g_autofree char *expected_log = NULL;
  g_autofree char *response = NULL;
  g_autofree char *command = NULL;
  const char expected_plain[] = "\0" USER "\0" PASSWORD;
  /* Over STARTTLS the capabilities are asked for again, with tag 2. */
  const char *before = starttls ? "ms1 STARTTLS\nms2 CAPABILITY\n" : "";
  guint tag = starttls ? 3 : 1;

  transcript_start ();
  run_probe (&o, IMAP, server->port,
             starttls ? MS_SECURITY_STARTTLS : MS_SECURITY_TLS, PASSWORD,
             LONG_DEADLINE_MS);
  log = transcript_stop ();
  record = fault_stop (server);
  g_test_message ("%s: %.1f ms", c->scenario, o.result.elapsed_us / 1000.0);

  g_assert_no_error (o.error);
  g_assert_true (o.result.authenticated);
  g_assert_cmpstr (o.result.mechanism, ==, "PLAIN");
  g_assert_true (strv_has (o.result.capabilities, "LOGINDISABLED"));
  g_assert_true (strv_has (o.result.capabilities, "AUTH=PLAIN"));
  g_assert_true (strv_has (o.result.capabilities, "SASL-IR") == (c->continuation == NULL));
  assert_tls_info (&o.result.tls);
  assert_stages (&o, starttls ? starttls_stages : tls_stages);
  assert_no_login_command (record);

  command = g_strdup_printf ("ms%u AUTHENTICATE PLAIN", tag);
  if (c->continuation == NULL)
    {
      expected_record = g_strdup_printf ("%s%s %s\nms%u LOGOUT\n", before,
                                         command, plain, tag + 1);
      expected_log = g_strdup_printf ("C: %s <hidden>\nS: ms%u OK completed\n",
                                      command, tag);
      response = record_argument (record, command, TRUE);
      g_strchug (response);
    }
  else
    {
      expected_record = g_strdup_printf ("%s%s\n%s\nms%u LOGOUT\n", before,
                                         command, plain, tag + 1);
      expected_log = g_strdup_printf ("C: %s\nS: %s\nC: <hidden>\n"
                                      "S: ms%u OK completed\n", command,
                                      c->continuation, tag);
      response = record_argument (record, command, FALSE);
    }
  g_assert_cmpstr (record, ==, expected_record);
  assert_has_text (log, expected_log);
  assert_decodes_to (response, expected_plain, sizeof expected_plain - 1);
}

static void
test_authenticate_plain_wrong_password (void)
{
  FaultServer *server = fault_start ("imap-authplain");
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *plain = sasl_plain_of (WRONG_PASSWORD);
  g_autofree char *expected = g_strdup_printf ("ms1 AUTHENTICATE PLAIN\n%s\n", plain);

  /* "NO [AUTHENTICATIONFAILED]" and a hang-up: one try, no LOGIN after it. */
  run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, WRONG_PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED);
  assert_message_has (o.error, "[AUTHENTICATIONFAILED] Authentication failed.");
  assert_message_has (o.error, USER);
  g_assert_cmpstr (record, ==, expected);
}

/* LOGINDISABLED and no AUTH=PLAIN: nothing mailsetup can log in with. */
static void
test_imap_no_usable_login (void)
{
  g_auto(Outcome) o = { 0 };
  g_auto(Outcome) o2 = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;

  record = check_quick_failure (&o, "imap-noauth", NULL, NULL, IMAP,
                                MS_SECURITY_TLS, MS_ERROR_PROTOCOL_ERROR,
                                "does not allow LOGIN and offers no other login method");
  g_assert_cmpstr (record, ==, "");
  /* Its TLS was fine, and is reported. */
  g_assert_cmpstr (o.result.tls.subject, ==, "CN=localhost");
  record2 = check_quick_failure (&o2, "imap-noauth", NULL, "plain", IMAP,
                                 MS_SECURITY_STARTTLS, MS_ERROR_PROTOCOL_ERROR,
                                 "AUTHENTICATE PLAIN");
  g_assert_cmpstr (record2, ==, "ms1 STARTTLS\nms2 CAPABILITY\n");
}

/* AUTH LOGIN only (PLAIN is not offered and would get 504). @data: NULL
 * for 587-style STARTTLS, "implicit" for 465. */
static void
test_smtp_auth_login (gconstpointer data)
{
  const char *tls = data;
  FaultServer *server = fault_start_full ("smtp-authlogin", NULL, tls, NULL);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *log = NULL;
  g_autofree char *user64 = base64_of (USER);
  g_autofree char *pass64 = base64_of (PASSWORD);
  g_autofree char *user_line = NULL;
  g_autofree char *pass_line = NULL;
  g_autofree char *pattern = NULL;

  transcript_start ();
  run_probe (&o, SMTP, server->port,
             tls != NULL ? MS_SECURITY_TLS : MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  log = transcript_stop ();
  record = fault_stop (server);
  g_test_message ("smtp-authlogin %s: %.1f ms", tls ? tls : "starttls",
                  o.result.elapsed_us / 1000.0);

  g_assert_no_error (o.error);
  g_assert_true (o.result.authenticated);
  g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
  g_assert_true (strv_has (o.result.capabilities, "AUTH LOGIN"));
  g_assert_cmpuint (o.result.max_message_size, ==, 20971520);
  assert_stages (&o, tls != NULL ? tls_stages : starttls_stages);

  /* What the client sent, in order; base64 has no regex specials but
   * "+", which the probe's EHLO name cannot hold. */
  {
    g_autofree char *user_re = g_regex_escape_string (user64, -1);
    g_autofree char *pass_re = g_regex_escape_string (pass64, -1);

    pattern = g_strdup_printf ("^EHLO \\S+\n%sAUTH LOGIN\n%s\n%s\nQUIT\n$",
                               tls != NULL ? "" : "STARTTLS\nEHLO \\S+\n",
                               user_re, pass_re);
  }
  if (!g_regex_match_simple (pattern, record, 0, 0))
    g_test_fail_printf ("record “%s” does not match “%s”", record, pattern);
  user_line = record_argument (record, "AUTH LOGIN", FALSE);
  assert_decodes_to (user_line, USER, strlen (USER));
  pass_line = record_argument (record, user_line, FALSE);
  assert_decodes_to (pass_line, PASSWORD, strlen (PASSWORD));
  /* And what was said between, as the probe saw it. */
  assert_has_text (log, "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: <hidden>\n"
                        "S: 334 UGFzc3dvcmQ6\nC: <hidden>\n"
                        "S: 235 2.7.0 Authentication successful\nC: QUIT\n");
}

/* AUTH offered over TLS, but neither PLAIN nor LOGIN; or no AUTH at all. */
static void
test_smtp_auth_unsupported (void)
{
  static const struct {
    const char *scenario;
    const char *tls;
    MsSecurity security;
    const char *message_part;
    const char *record;
  } cases[] = {
    { "smtp-auth-unsupported", NULL, MS_SECURITY_STARTTLS,
      "(AUTH CRAM-MD5 XOAUTH2); mailsetup needs PLAIN or LOGIN",
      "^EHLO \\S+\nSTARTTLS\nEHLO \\S+\n$" },
    { "smtp-auth-unsupported", "implicit", MS_SECURITY_TLS,
      "(AUTH CRAM-MD5 XOAUTH2); mailsetup needs PLAIN or LOGIN",
      "^EHLO \\S+\n$" },
    { "smtp-noauth", NULL, MS_SECURITY_STARTTLS,
      "does not offer a login (SMTP AUTH)",
      "^EHLO \\S+\nSTARTTLS\nEHLO \\S+\n$" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Outcome) o = { 0 };
      g_autofree char *record =
        check_quick_failure (&o, cases[i].scenario, NULL, cases[i].tls, SMTP,
                             cases[i].security, MS_ERROR_PROTOCOL_ERROR,
                             cases[i].message_part);

      if (!g_regex_match_simple (cases[i].record, record, 0, 0))
        g_test_fail_printf ("%s: record “%s”", cases[i].scenario, record);
      /* It got as far as choosing a mechanism, and no further. */
      assert_stages (&o, cases[i].security == MS_SECURITY_TLS
                           ? (const char *const[]) { "connecting", "tls", "greeting", "authenticating", NULL }
                           : (const char *const[]) { "connecting", "greeting", "tls", "authenticating", NULL });
    }
}

/* A server that says yes before it was given the password has not checked
 * it: that is no verdict on the credentials, and must not pass for one. */
static void
test_verdict_without_password (void)
{
  static const struct {
    const char *scenario;
    Protocol protocol;
    MsSecurity security;
    const char *where;
  } cases[] = {
    /* "ms1 AUTHENTICATE PLAIN" → "ms1 OK", no "+" */
    { "imap-auth-skip", IMAP, MS_SECURITY_TLS, "imap-probe.c send_authenticate_plain()" },
    /* "AUTH LOGIN" → "235", no "334" */
    { "smtp-auth-skip", SMTP, MS_SECURITY_STARTTLS, "smtp-probe.c authenticate(), AUTH LOGIN" },
  };
  g_autoptr(GString) wrong = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      FaultServer *server = fault_start (cases[i].scenario);
      g_auto(Outcome) o = { 0 };
      g_autofree char *record = NULL;
      g_autofree char *pass64 = base64_of (PASSWORD);
      g_autofree char *plain = sasl_plain_of (PASSWORD);

      run_probe (&o, cases[i].protocol, server->port, cases[i].security,
                 PASSWORD, LONG_DEADLINE_MS);
      record = fault_stop (server);

      /* The password never went out... */
      g_assert_null (strstr (record, PASSWORD));
      g_assert_null (strstr (record, pass64));
      g_assert_null (strstr (record, plain));
      /* ...so the login cannot count as a success. */
      if (o.ok)
        g_string_append_printf (wrong, "%s%s: success (mechanism %s) though "
                                "the password was never sent (%s)",
                                wrong->len > 0 ? "; " : "", cases[i].scenario,
                                o.result.mechanism, cases[i].where);
      else
        g_assert_error (o.error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR);
    }
  if (wrong->len > 0)
    g_test_fail_printf ("%s", wrong->str);
}

/* ---- TLS versions ----
 *
 * The probes speak TLS 1.2 and 1.3 only. */

/* A client that speaks TLS 1.0 and 1.1 only (security level 0, no
 * certificate check): the first thing the server at @port says over TLS,
 * and the version in *@version; NULL if the handshake failed. */
static char *
legacy_tls_greeting (guint16 port,
                     char **version)
{
  struct sockaddr_in address = {
    .sin_family = AF_INET,
    .sin_port = g_htons (port),
    .sin_addr.s_addr = g_htonl (INADDR_LOOPBACK),
  };
  struct timeval timeout = { .tv_sec = 5 };
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  SSL *ssl = NULL;
  char *greeting = NULL;
  char buf[512];
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int n;

  *version = NULL;
  g_assert_cmpint (fd, >=, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (ctx == NULL
      || connect (fd, (struct sockaddr *) &address, sizeof address) != 0
      || !SSL_CTX_set_min_proto_version (ctx, TLS1_VERSION)
      || !SSL_CTX_set_max_proto_version (ctx, TLS1_1_VERSION)
      || !SSL_CTX_set_cipher_list (ctx, "DEFAULT:@SECLEVEL=0"))
    goto out;

  ssl = SSL_new (ctx);
  SSL_set_fd (ssl, fd);
  if (SSL_connect (ssl) == 1)
    {
      *version = g_strdup (SSL_get_version (ssl));
      n = SSL_read (ssl, buf, sizeof buf - 1);
      if (n > 0)
        greeting = g_strndup (buf, n);
    }

out:
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  close (fd);
  return greeting;
}

/* A server that speaks only TLS 1.0 and 1.1 (an OpenSSL one, which knows
 * TLS 1.3's supported_versions): the probes offer nothing older than 1.2,
 * so it finds no common version and says so (a protocol_version alert). */
static void
test_tls11_refused (void)
{
  g_auto(Outcome) imap = { 0 };
  g_auto(Outcome) smtp = { 0 };
  g_auto(Outcome) smtps = { 0 };
  FaultServer *server = fault_start ("imap-tls11");
  g_autofree char *version = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;
  g_autofree char *record3 = NULL;

  /* The server does work, for a client that still takes TLS 1.1. */
  greeting = legacy_tls_greeting (server->port, &version);
  if (version == NULL)
    {
      /* e.g. an OpenSSL built without TLS 1.1: nothing to refuse. */
      g_free (fault_stop (server));
      g_test_skip ("this OpenSSL does not speak TLS 1.1 even at security level 0");
      return;
    }
  g_assert_cmpstr (version, ==, "TLSv1.1");
  g_assert_true (g_str_has_prefix (greeting ? greeting : "", "* OK "));

  run_probe (&imap, IMAP, server->port, MS_SECURITY_TLS, PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);
  g_assert_error (imap.error, MS_ERROR, MS_ERROR_TLS_FAILED);
  assert_message_has (imap.error, "protocol version");
  assert_message_has (imap.error, "outdated TLS versions");
  g_assert_cmpint (imap.elapsed_us, <, QUICK_FAILURE_US);
  g_assert_null (imap.result.tls.version);
  g_assert_cmpstr (record, ==, "");
  g_test_message ("imap-tls11: %.1f ms", imap.elapsed_us / 1000.0);

  record2 = check_quick_failure (&smtp, "smtp-tls11", NULL, NULL, SMTP,
                                 MS_SECURITY_STARTTLS, MS_ERROR_TLS_FAILED,
                                 "protocol version");
  g_assert_true (g_regex_match_simple ("^EHLO \\S+\nSTARTTLS\n$", record2, 0, 0));
  g_assert_null (smtp.result.tls.version);
  record3 = check_quick_failure (&smtps, "smtp-tls11", NULL, "implicit", SMTP,
                                 MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                 "protocol version");
  g_assert_cmpstr (record3, ==, "");
}

/* A server from before TLS 1.3, capped at 1.1, ignores supported_versions
 * and answers with a TLS 1.1 ServerHello: the probes turn it down
 * themselves ("unsupported protocol"), before any certificate. */
static void
test_tls11_server_hello (void)
{
  g_auto(Outcome) imap = { 0 };
  g_auto(Outcome) smtp = { 0 };
  g_auto(Outcome) smtps = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;
  g_autofree char *record3 = NULL;

  record = check_quick_failure (&imap, "imap-tls11-hello", NULL, NULL, IMAP,
                                MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                "unsupported protocol");
  assert_message_has (imap.error, "outdated TLS versions");
  g_assert_cmpstr (record, ==, "");
  g_assert_null (imap.result.tls.version);
  g_test_message ("imap-tls11-hello: %.1f ms", imap.elapsed_us / 1000.0);
  record2 = check_quick_failure (&smtp, "smtp-tls11-hello", NULL, NULL, SMTP,
                                 MS_SECURITY_STARTTLS, MS_ERROR_TLS_FAILED,
                                 "unsupported protocol");
  g_assert_true (g_regex_match_simple ("^EHLO \\S+\nSTARTTLS\n$", record2, 0, 0));
  record3 = check_quick_failure (&smtps, "smtp-tls11-hello", NULL, "implicit",
                                 SMTP, MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                 "unsupported protocol");
  g_assert_cmpstr (record3, ==, "");
}

/* ---- IPv6 ---- */

static gboolean
have_ipv6_loopback (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV6,
                                          G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, &error);

  if (sock == NULL || !g_socket_bind (sock, address, FALSE, &error))
    {
      g_autofree char *reason =
        g_strdup_printf ("no IPv6 loopback: binding ::1 fails (%s)",
                         error != NULL ? error->message : "?");

      g_test_skip (reason);
      return FALSE;
    }

  return TRUE;
}

/* Servers listening on ::1 only, reached by the address: IMAP and SMTP
 * succeed (the certificate names IP:::1); the wrong-host certificate is
 * refused naming "::1". */
static void
test_ipv6_loopback (void)
{
  g_auto(Outcome) imap = { 0 };
  g_auto(Outcome) smtp = { 0 };
  g_auto(Outcome) wrong = { 0 };
  FaultServer *server;
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;
  g_autofree char *record3 = NULL;

  if (!have_ipv6_loopback ())
    return;

  server = fault_start_at ("imap-icloud", NULL, NULL, NULL, "::1");
  run_probe_full (&imap, IMAP, "::1", server->port, MS_SECURITY_TLS, USER,
                  PASSWORD, LONG_DEADLINE_MS, NULL);
  record = fault_stop (server);
  g_assert_no_error (imap.error);
  g_assert_cmpstr (imap.result.mechanism, ==, "LOGIN");
  assert_tls_info (&imap.result.tls);
  assert_stages (&imap, tls_stages);
  g_test_message ("IMAP over ::1: %.1f ms", imap.result.elapsed_us / 1000.0);

  server = fault_start_at ("smtp-starttls-ok", NULL, NULL, NULL, "::1");
  run_probe_full (&smtp, SMTP, "::1", server->port, MS_SECURITY_STARTTLS, USER,
                  PASSWORD, LONG_DEADLINE_MS, NULL);
  record2 = fault_stop (server);
  g_assert_no_error (smtp.error);
  g_assert_cmpstr (smtp.result.mechanism, ==, "PLAIN");
  assert_tls_info (&smtp.result.tls);
  g_test_message ("SMTP over ::1: %.1f ms", smtp.result.elapsed_us / 1000.0);

  server = fault_start_at ("imap-icloud", "wronghost", NULL, NULL, "::1");
  run_probe_full (&wrong, IMAP, "::1", server->port, MS_SECURITY_TLS, USER,
                  PASSWORD, LONG_DEADLINE_MS, NULL);
  record3 = fault_stop (server);
  g_assert_error (wrong.error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID);
  assert_message_has (wrong.error, "not for ::1");
  assert_no_credentials (record3, PASSWORD);
}

/* "localhost" with both ::1 and 127.0.0.1: a server on either one alone
 * is found. */
static void
test_ipv6_localhost (void)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GError) error = NULL;
  GList *addresses;
  gboolean v4 = FALSE, v6 = FALSE;
  const char *hosts[] = { "::1", "127.0.0.1" };

  if (!have_ipv6_loopback ())
    return;

  addresses = g_resolver_lookup_by_name (resolver, "localhost", NULL, &error);
  for (GList *l = addresses; l != NULL; l = l->next)
    {
      if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6)
        v6 = TRUE;
      else
        v4 = TRUE;
    }
  g_resolver_free_addresses (addresses);
  if (!v4 || !v6)
    {
      g_test_skip ("“localhost” does not resolve to both ::1 and 127.0.0.1 "
                   "here (see /etc/hosts)");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      FaultServer *server = fault_start_at ("imap-icloud", NULL, NULL, NULL,
                                            hosts[i]);
      g_auto(Outcome) o = { 0 };
      g_autofree char *record = NULL;

      run_probe (&o, IMAP, server->port, MS_SECURITY_TLS, PASSWORD,
                 LONG_DEADLINE_MS);
      record = fault_stop (server);
      g_assert_no_error (o.error);
      g_assert_cmpstr (o.result.mechanism, ==, "LOGIN");
      g_test_message ("localhost, server on %s only: %.1f ms", hosts[i],
                      o.result.elapsed_us / 1000.0);
    }
}

/* ---- IMAP STARTTLS stripping and injection ----
 *
 * fault-server.py's IMAP profiles always offer STARTTLS on plain text, so
 * these few cases use a one-connection stub in a thread. */

typedef struct {
  GSocketListener *listener;
  const char *greeting;
  const char *after_first_line; /* sent once the client's first line is in */
  GString *received;
} Stub;

static gpointer
stub_serve (gpointer data)
{
  Stub *stub = data;
  g_autoptr(GSocketConnection) conn = NULL;
  GOutputStream *out;
  GInputStream *in;
  gboolean answered = FALSE;
  char buf[4096];
  gssize n;

  conn = g_socket_listener_accept (stub->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));

  g_output_stream_write_all (out, stub->greeting, strlen (stub->greeting),
                             NULL, NULL, NULL);
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    {
      g_string_append_len (stub->received, buf, n);
      if (!answered && stub->after_first_line != NULL
          && strchr (stub->received->str, '\n') != NULL)
        {
          answered = TRUE;
          g_output_stream_write_all (out, stub->after_first_line,
                                     strlen (stub->after_first_line), NULL,
                                     NULL, NULL);
        }
    }

  return NULL;
}

/* Runs an IMAP STARTTLS probe against the stub; returns what it received. */
static char *
run_stub (Outcome *outcome,
          const char *greeting,
          const char *after_first_line)
{
  g_autoptr(GError) error = NULL;
  Stub stub = {
    .listener = g_socket_listener_new (),
    .greeting = greeting,
    .after_first_line = after_first_line,
    .received = g_string_new (NULL),
  };
  guint16 port = g_socket_listener_add_any_inet_port (stub.listener, NULL, &error);
  GThread *thread;

  g_assert_no_error (error);
  thread = g_thread_new ("stub", stub_serve, &stub);
  run_probe_full (outcome, IMAP, "127.0.0.1", port, MS_SECURITY_STARTTLS, USER,
                  PASSWORD, LONG_DEADLINE_MS, NULL);
  g_thread_join (thread);
  g_object_unref (stub.listener);

  return g_string_free (stub.received, FALSE);
}

static void
test_imap_no_starttls (void)
{
  g_auto(Outcome) o = { 0 };
  g_autofree char *received =
    run_stub (&o, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] stripped\r\n", NULL);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE);
  /* The capabilities came with the greeting: not a byte was sent. */
  g_assert_cmpstr (received, ==, "");
}

static void
test_imap_no_starttls_asked (void)
{
  g_auto(Outcome) o = { 0 };
  g_autofree char *received =
    run_stub (&o, "* OK hello\r\n",
              "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nms1 OK done\r\n");

  g_assert_error (o.error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE);
  g_assert_cmpstr (received, ==, "ms1 CAPABILITY\r\n");
}

static void
test_imap_preauth_plaintext (void)
{
  g_auto(Outcome) o = { 0 };
  g_autofree char *received =
    run_stub (&o, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n", NULL);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE);
  g_assert_cmpstr (received, ==, "");
}

static void
test_imap_starttls_inject (void)
{
  g_auto(Outcome) o = { 0 };
  g_autofree char *received =
    run_stub (&o, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n",
              "ms1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");

  g_assert_error (o.error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR);
  assert_message_has (o.error, "unencrypted");
  g_assert_cmpstr (received, ==, "ms1 STARTTLS\r\n");
}

/* ---- certificates ---- */

typedef struct {
  const char *cert;
  const char *message_part;
} CertCase;

static const CertCase cert_cases[] = {
  { "expired", "expired on" },
  { "notyet", "date and time" },
  { "wronghost", "wrong.example" },
  { "selfsigned", "self-signed" },
  { "bigchain", "chain of more than" },
};

static void
test_bad_certificate (gconstpointer data)
{
  const CertCase *cert_case = data;
  g_auto(Outcome) imap = { 0 };
  g_auto(Outcome) smtp = { 0 };
  g_auto(Outcome) smtps = { 0 };
  FaultServer *server;
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;
  g_autofree char *record3 = NULL;

  server = fault_start_full ("imap-icloud", cert_case->cert, NULL, NULL);
  run_probe (&imap, IMAP, server->port, MS_SECURITY_TLS, PASSWORD,
             LONG_DEADLINE_MS);
  record = fault_stop (server);
  g_assert_error (imap.error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID);
  assert_message_has (imap.error, cert_case->message_part);
  assert_no_credentials (record, PASSWORD);
  g_assert_null (imap.result.tls.version);

  server = fault_start_full ("smtp-starttls-ok", cert_case->cert, NULL, NULL);
  run_probe (&smtp, SMTP, server->port, MS_SECURITY_STARTTLS, PASSWORD,
             LONG_DEADLINE_MS);
  record2 = fault_stop (server);
  g_assert_error (smtp.error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID);
  assert_no_credentials (record2, PASSWORD);

  server = fault_start_full ("smtps-ok", cert_case->cert, NULL, NULL);
  run_probe (&smtps, SMTP, server->port, MS_SECURITY_TLS, PASSWORD,
             LONG_DEADLINE_MS);
  record3 = fault_stop (server);
  g_assert_error (smtps.error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID);
  assert_no_credentials (record3, PASSWORD);
}

/* Over OpenSSL's 100 KiB limit for the certificates a peer sends: the
 * handshake fails before any verification, on every kind of endpoint.
 * hugecert would verify if it were smaller; hugechain is also over the
 * probes' limit of 10 certificates, which the size check comes before. */
static void
test_oversized_certificate (gconstpointer data)
{
  const char *cert = data;
  g_auto(Outcome) imap = { 0 };
  g_auto(Outcome) smtp = { 0 };
  g_auto(Outcome) smtps = { 0 };
  g_autofree char *record = NULL;
  g_autofree char *record2 = NULL;
  g_autofree char *record3 = NULL;

  record = check_quick_failure (&imap, "imap-icloud", cert, NULL, IMAP,
                                MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                "excessive message size");
  g_assert_cmpstr (record, ==, "");
  g_assert_null (imap.result.tls.version);
  record2 = check_quick_failure (&smtp, "smtp-starttls-ok", cert, NULL, SMTP,
                                 MS_SECURITY_STARTTLS, MS_ERROR_TLS_FAILED,
                                 "excessive message size");
  g_assert_null (smtp.result.tls.version);
  record3 = check_quick_failure (&smtps, "smtps-ok", cert, NULL, SMTP,
                                 MS_SECURITY_TLS, MS_ERROR_TLS_FAILED,
                                 "excessive message size");
  g_assert_cmpstr (record3, ==, "");
  g_assert_null (smtps.result.tls.version);
}

static void
test_wronghost_names_host (void)
{
  FaultServer *server = fault_start_full ("imap-icloud", "wronghost", NULL, NULL);
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;

  run_probe_full (&o, IMAP, "127.0.0.1", server->port, MS_SECURITY_TLS, USER,
                  PASSWORD, LONG_DEADLINE_MS, NULL);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_CERTIFICATE_INVALID);
  assert_message_has (o.error, "not for 127.0.0.1");
  assert_no_credentials (record, PASSWORD);
}

/* ---- connecting and cancelling ---- */

static void
test_refused (void)
{
  g_autofree char *script = g_build_filename (servers_dir, "fault-server.py", NULL);
  const char *argv[] = { python, script, "--scenario", "refused", NULL };
  g_autofree char *line = NULL;
  g_autoptr(GSubprocess) proc = spawn_server (argv, &line);
  g_auto(Outcome) o = { 0 };
  guint16 port;

  g_assert_nonnull (line);
  port = (guint16) g_ascii_strtoull (line != NULL ? line + 5 : "0", NULL, 10);
  stop_server (proc);

  run_probe (&o, SMTP, port, MS_SECURITY_STARTTLS, PASSWORD, LONG_DEADLINE_MS);
  g_assert_error (o.error, MS_ERROR, MS_ERROR_CONNECTION_FAILED);
  assert_message_has (o.error, "refused");
  g_assert_cmpint (o.elapsed_us, <, G_USEC_PER_SEC);
}

static void
test_unknown_host (void)
{
  g_auto(Outcome) o = { 0 };

  run_probe_full (&o, IMAP, "does-not-exist.invalid", 993, MS_SECURITY_TLS,
                  USER, PASSWORD, 3000, NULL);
  /* Without working DNS in the sandbox the lookup may time out instead. */
  if (!g_error_matches (o.error, MS_ERROR, MS_ERROR_TIMEOUT))
    g_assert_error (o.error, MS_ERROR, MS_ERROR_CONNECTION_FAILED);
  g_assert_cmpint (o.elapsed_us, <, 3500000);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (300 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_while_waiting (void)
{
  FaultServer *server = fault_start ("imap-silent");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(Outcome) o = { 0 };
  g_autofree char *record = NULL;
  GThread *thread = g_thread_new ("canceller", cancel_later, cancellable);

  run_probe_full (&o, IMAP, "localhost", server->port, MS_SECURITY_STARTTLS,
                  USER, PASSWORD, LONG_DEADLINE_MS, cancellable);
  g_thread_join (thread);
  record = fault_stop (server);

  g_assert_error (o.error, MS_ERROR, MS_ERROR_CANCELLED);
  /* Woken by the cancellable, not by the 15 s deadline. */
  g_assert_cmpint (o.elapsed_us, <, 1500000);
}

static void
test_cancel_before (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(Outcome) o = { 0 };

  g_cancellable_cancel (cancellable);
  run_probe_full (&o, IMAP, "localhost", 9, MS_SECURITY_TLS, USER, PASSWORD,
                  LONG_DEADLINE_MS, cancellable);
  g_assert_error (o.error, MS_ERROR, MS_ERROR_CANCELLED);
  assert_stages (&o, (const char *const[]) { "connecting", NULL });
}

static void
test_bad_credentials (void)
{
  g_auto(Outcome) a = { 0 };
  g_auto(Outcome) b = { 0 };

  /* Refused before anything is sent: no stage at all. */
  run_probe (&a, IMAP, 9, MS_SECURITY_TLS, "abcd\r\nX LOGOUT", LONG_DEADLINE_MS);
  g_assert_error (a.error, MS_ERROR, MS_ERROR_INVALID_PASSWORD);
  g_assert_cmpuint (a.stages->len, ==, 0);
  run_probe_full (&b, SMTP, "localhost", 9, MS_SECURITY_TLS, "jane\n", PASSWORD,
                  LONG_DEADLINE_MS, NULL);
  g_assert_error (b.error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
}

/* The line reader on its own: CRLF and bare LF, and the 64 KiB bound. */
static void
test_read_line (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MsConnection) conn = NULL;
  g_autoptr(GSocketConnection) peer = NULL;
  g_autofree char *big = g_malloc (MS_CONNECTION_MAX_LINE + 2);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  GOutputStream *out;
  guint16 port;
  char *line;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  conn = ms_connection_connect ("127.0.0.1", port, deadline, NULL, &error);
  g_assert_no_error (error);
  peer = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (peer));

  g_output_stream_write_all (out, "one\r\ntwo\nthree\r\n", 16, NULL, NULL, &error);
  g_assert_no_error (error);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_cmpstr (line, ==, "one");
  g_free (line);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_cmpstr (line, ==, "two");
  g_free (line);
  /* "three" was read along with the others and is still pending. */
  g_assert_cmpuint (ms_connection_get_pending_plaintext (conn), ==, 7);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_cmpstr (line, ==, "three");
  g_free (line);
  g_assert_cmpuint (ms_connection_get_pending_plaintext (conn), ==, 0);
  g_assert_cmpuint (ms_connection_get_bytes_read (conn), ==, 16);

  /* Exactly the longest line is fine; one byte more is not. */
  memset (big, 'x', MS_CONNECTION_MAX_LINE);
  memcpy (big + MS_CONNECTION_MAX_LINE, "\r\n", 2);
  g_output_stream_write_all (out, big, MS_CONNECTION_MAX_LINE + 2, NULL, NULL, &error);
  g_assert_no_error (error);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (line != NULL ? strlen (line) : 0, ==, MS_CONNECTION_MAX_LINE);
  g_free (line);

  g_output_stream_write_all (out, big, MS_CONNECTION_MAX_LINE, NULL, NULL, &error);
  g_output_stream_write_all (out, "yz\r\n", 4, NULL, NULL, &error);
  g_assert_no_error (error);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_null (line);
  g_assert_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR);
  g_clear_error (&error);

  g_clear_pointer (&conn, ms_connection_free);
}

/* A connection to @listener and the server's end of it. */
static MsConnection *
connect_pair (GSocketListener *listener,
              guint16 port,
              GSocketConnection **peer)
{
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  MsConnection *conn = ms_connection_connect ("127.0.0.1", port, deadline,
                                              NULL, &error);

  g_assert_no_error (error);
  *peer = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  return conn;
}

static void
peer_write (GSocketConnection *peer,
            const char *data)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (peer)),
                             data, strlen (data), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Plain text after the go-ahead refuses the TLS upgrade, whether it came
 * with the reply or just after it; on an implicit-TLS connection a plain
 * greeting is a TLS failure (wrong port), not an injection. */
static void
test_plaintext_before_tls (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  GSocketConnection *peer = NULL;
  MsConnection *conn;
  char *line;

  conn = connect_pair (listener, port, &peer);
  peer_write (peer, "ms1 OK begin\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_cmpstr (line, ==, "ms1 OK begin");
  g_free (line);
  g_assert_cmpuint (ms_connection_get_pending_plaintext (conn), >, 0);
  g_assert_false (ms_connection_start_tls (conn, deadline, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR);
  g_assert_null (ms_connection_get_tls_info (conn));
  g_clear_error (&error);
  ms_connection_free (conn);
  g_clear_object (&peer);

  conn = connect_pair (listener, port, &peer);
  peer_write (peer, "220 go ahead\r\n");
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_free (line);
  peer_write (peer, "250 injected\r\n");
  g_usleep (100 * 1000);
  g_assert_cmpuint (ms_connection_get_pending_plaintext (conn), ==, 0);
  g_assert_true (ms_connection_socket_has_data (conn));
  g_assert_false (ms_connection_start_tls (conn, deadline, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR);
  g_clear_error (&error);
  ms_connection_free (conn);
  g_clear_object (&peer);

  conn = connect_pair (listener, port, &peer);
  peer_write (peer, "220 smtp.example ESMTP\r\n");
  g_usleep (100 * 1000);
  g_assert_false (ms_connection_start_tls (conn, deadline, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_TLS_FAILED);
  assert_message_has (error, "without TLS");
  g_clear_error (&error);
  ms_connection_free (conn);
  g_clear_object (&peer);
}

static void
test_peer_hangup (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_autoptr(GSocketConnection) peer = NULL;
  g_autoptr(MsConnection) conn = connect_pair (listener, port, &peer);
  char *line;

  /* The server hanging up. */
  g_io_stream_close (G_IO_STREAM (peer), NULL, NULL);
  line = ms_connection_read_line (conn, deadline, NULL, &error);
  g_assert_null (line);
  g_assert_error (error, MS_ERROR, MS_ERROR_CONNECTION_FAILED);
  assert_message_has (error, "closed the connection");
}

/* Run last: nothing above wrote a password into the log. */
static void
test_no_secret_in_log (void)
{
  /* The probes did talk, so the check above had something to look at. */
  g_assert_cmpuint (debug_messages_seen, >, 100);
  g_assert_false (secret_logged);
}

/* ---- set-up ---- */

/* Sees every message, debug ones included whatever G_MESSAGES_DEBUG says,
 * and keeps stdout for TAP. */
static GLogWriterOutput
log_writer (GLogLevelFlags level,
            const GLogField *fields,
            gsize n_fields,
            gpointer user_data)
{
  if (level & G_LOG_LEVEL_DEBUG)
    debug_messages_seen++;

  for (gsize i = 0; i < n_fields; i++)
    {
      g_autofree char *value = NULL;

      if (strcmp (fields[i].key, "MESSAGE") != 0)
        continue;
      value = fields[i].length < 0 ? g_strdup (fields[i].value)
                                   : g_strndup (fields[i].value, fields[i].length);
      for (guint j = 0; j < G_N_ELEMENTS (secrets); j++)
        if (strstr (value, secrets[j]) != NULL)
          secret_logged = TRUE;

      /* "IMAP host:port C: text" (the host has no spaces, even "::1"). */
      if (g_str_has_prefix (value, "IMAP ") || g_str_has_prefix (value, "SMTP "))
        {
          const char *said = strchr (value + 5, ' ');

          G_LOCK (transcript);
          if (transcript != NULL && said != NULL
              && (g_str_has_prefix (said, " C: ") || g_str_has_prefix (said, " S: ")))
            g_ptr_array_add (transcript, g_strdup (said + 1));
          G_UNLOCK (transcript);
        }
    }

  if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
      && !g_log_writer_default_would_drop (level, "mailsetup-net"))
    {
      g_autofree char *line = g_log_writer_format_fields (level, fields,
                                                          n_fields, FALSE);

      g_printerr ("%s\n", line);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
start_dovecot (void)
{
  g_autofree char *script = g_build_filename (servers_dir, "dovecot.py", NULL);
  g_autofree char *dir = g_build_filename (tmp_dir, "dovecot", NULL);
  const char *argv[] = { python, script, "run", dir, cert_dir,
                         "--lifetime", "900", NULL };
  g_autofree char *json = NULL;

  dovecot = spawn_server (argv, &json);
  dv.imaps = json_port (json, "imaps");
  dv.imap_starttls = json_port (json, "imap_starttls");
  dv.submission = json_port (json, "submission");
  dv.submissions = json_port (json, "submissions");

  if (dv.imaps == 0 || dv.imap_starttls == 0 || dv.submission == 0
      || dv.submissions == 0)
    {
      g_printerr ("# Dovecot did not start (%s); its tests are skipped\n",
                  json != NULL ? json : "no output");
      stop_server (dovecot);
      g_clear_object (&dovecot);
    }
}

static void
make_certificates (void)
{
  g_autofree char *script = g_build_filename (servers_dir, "testca.py", NULL);
  const char *argv[] = { python, script, cert_dir, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
    g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);

  g_assert_no_error (error);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);

}

int
main (int argc,
      char **argv)
{
  int status;

  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  python = g_getenv ("MAILSETUP_PYTHON");
  if (python == NULL)
    python = "python3";
  servers_dir = g_getenv ("MAILSETUP_TEST_SERVERS");
  if (servers_dir == NULL)
    servers_dir = SERVERS_DIR;

  running = g_ptr_array_new_with_free_func (g_object_unref);
  tmp_dir = g_dir_make_tmp ("mailsetup-net-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  cert_dir = g_build_filename (tmp_dir, "certs", NULL);

  /* Only the test CA is trusted.  OpenSSL reads these at the first TLS
   * use; set them before any thread exists (setenv is not thread-safe). */
  {
    g_autofree char *ca = g_build_filename (cert_dir, "ca.pem", NULL);
    g_autofree char *empty = g_build_filename (tmp_dir, "no-certs", NULL);

    g_mkdir (empty, 0700);
    g_setenv ("SSL_CERT_FILE", ca, TRUE);
    g_setenv ("SSL_CERT_DIR", empty, TRUE);
  }
  make_certificates ();
  start_dovecot ();

  g_test_add_func ("/net/connection/read-line", test_read_line);
  g_test_add_func ("/net/connection/plaintext-before-tls", test_plaintext_before_tls);
  g_test_add_func ("/net/connection/peer-hangup", test_peer_hangup);
  g_test_add_func ("/net/connection/refused", test_refused);
  g_test_add_func ("/net/connection/unknown-host", test_unknown_host);
  g_test_add_func ("/net/connection/cancel-while-waiting", test_cancel_while_waiting);
  g_test_add_func ("/net/connection/cancel-before", test_cancel_before);
  g_test_add_func ("/net/probe/bad-credentials", test_bad_credentials);

  /* Failed logins come last: Dovecot then delays every login from the
   * address (its auth penalty), good ones included. */
  g_test_add_func ("/net/dovecot/imap-tls", test_dovecot_imap_tls);
  g_test_add_func ("/net/dovecot/imap-starttls", test_dovecot_imap_starttls);
  g_test_add_func ("/net/dovecot/smtp-starttls", test_dovecot_smtp_starttls);
  g_test_add_func ("/net/dovecot/smtp-tls", test_dovecot_smtp_tls);
  g_test_add_func ("/net/dovecot/wrong-security", test_dovecot_wrong_security);
  g_test_add_func ("/net/dovecot/timing", test_dovecot_timing);
  g_test_add_func ("/net/dovecot/imap-wrong-password", test_dovecot_imap_wrong_password);
  g_test_add_func ("/net/dovecot/imap-literal", test_dovecot_imap_literal);
  g_test_add_func ("/net/dovecot/smtp-wrong-password", test_dovecot_smtp_wrong_password);

  g_test_add_func ("/net/imap/icloud-ok", test_icloud_ok);
  g_test_add_func ("/net/imap/icloud-starttls", test_icloud_starttls);
  g_test_add_func ("/net/imap/icloud-wrong-password", test_icloud_wrong_password);
  g_test_add_func ("/net/imap/quoting", test_icloud_quoting);
  g_test_add_func ("/net/imap/literal", test_icloud_literal);
  g_test_add_func ("/net/imap/hangup-first", test_hangup_first);
  g_test_add_func ("/net/imap/no-starttls", test_imap_no_starttls);
  g_test_add_func ("/net/imap/no-starttls-asked", test_imap_no_starttls_asked);
  g_test_add_func ("/net/imap/preauth-plaintext", test_imap_preauth_plaintext);
  g_test_add_func ("/net/imap/starttls-inject", test_imap_starttls_inject);
  g_test_add_func ("/net/imap/bye", test_imap_bye);
  g_test_add_func ("/net/imap/silent", test_imap_silent);
  g_test_add_func ("/net/imap/tls-handshake-silent", test_tls_handshake_silent);
  g_test_add_func ("/net/imap/tls-silent", test_tls_silent);
  g_test_add_func ("/net/imap/trickle", test_imap_trickle);
  g_test_add_func ("/net/imap/longline", test_imap_longline);
  g_test_add_func ("/net/imap/flood", test_imap_flood);
  g_test_add_func ("/net/imap/garbage", test_imap_garbage);
  g_test_add_func ("/net/imap/renegotiate", test_imap_renegotiate);
  for (guint i = 0; i < G_N_ELEMENTS (auth_plain_cases); i++)
    g_test_add_data_func (auth_plain_cases[i].path, &auth_plain_cases[i],
                          test_authenticate_plain);
  g_test_add_func ("/net/imap/authenticate-plain/wrong-password",
                   test_authenticate_plain_wrong_password);
  g_test_add_func ("/net/imap/no-usable-login", test_imap_no_usable_login);
  g_test_add_func ("/net/tls/renegotiate-before-greeting", test_renegotiate_before_greeting);

  g_test_add_func ("/net/smtp/starttls-ok", test_smtp_starttls_ok);
  g_test_add_func ("/net/smtp/smtps-ok", test_smtps_ok);
  g_test_add_func ("/net/smtp/no-starttls", test_smtp_no_starttls);
  g_test_add_func ("/net/smtp/starttls-inject", test_smtp_starttls_inject);
  g_test_add_func ("/net/smtp/421", test_smtp_421);
  g_test_add_func ("/net/smtp/authfail", test_smtp_authfail);
  g_test_add_func ("/net/smtp/longreply", test_smtp_longreply);
  g_test_add_func ("/net/smtp/454", test_smtp_454);
  g_test_add_func ("/net/smtp/silent", test_smtp_silent);
  g_test_add_func ("/net/smtp/longline", test_smtp_longline);
  g_test_add_func ("/net/smtp/flood", test_smtp_flood);
  g_test_add_func ("/net/smtp/renegotiate", test_smtp_renegotiate);
  g_test_add_data_func ("/net/smtp/auth-login", NULL, test_smtp_auth_login);
  g_test_add_data_func ("/net/smtp/auth-login-tls", "implicit", test_smtp_auth_login);
  g_test_add_func ("/net/smtp/auth-unsupported", test_smtp_auth_unsupported);
  g_test_add_func ("/net/probe/verdict-without-password", test_verdict_without_password);

  g_test_add_func ("/net/tls/tls11-refused", test_tls11_refused);
  g_test_add_func ("/net/tls/tls11-server-hello", test_tls11_server_hello);

  g_test_add_func ("/net/ipv6/loopback", test_ipv6_loopback);
  g_test_add_func ("/net/ipv6/localhost", test_ipv6_localhost);

  for (guint i = 0; i < G_N_ELEMENTS (cert_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/net/certificate/%s",
                                               cert_cases[i].cert);

      g_test_add_data_func (path, &cert_cases[i], test_bad_certificate);
    }
  g_test_add_func ("/net/certificate/wronghost-ip", test_wronghost_names_host);
  g_test_add_data_func ("/net/certificate/hugecert", "hugecert", test_oversized_certificate);
  g_test_add_data_func ("/net/certificate/hugechain", "hugechain", test_oversized_certificate);

  g_test_add_func ("/net/zz/no-secret-in-log", test_no_secret_in_log);

  status = g_test_run ();

  stop_all_servers ();
  g_clear_object (&dovecot);
  g_clear_pointer (&running, g_ptr_array_unref);
  if (status == 0)
    {
      g_autofree char *quoted = g_shell_quote (tmp_dir);
      g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

      /* Kept after a failure for the records and Dovecot's log. */
      if (system (command) != 0)
        g_printerr ("# could not remove %s\n", tmp_dir);
    }
  else
    g_printerr ("# test files kept in %s\n", tmp_dir);

  return status;
}
