/* test-mx.c: custom mail domains recognised by their MX records, with a
 * GResolver test double instead of the network
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "address-resolver.h"
#include "mailsetup-error.h"
#include "mx-lookup.h"
#include "provider-registry.h"

/* A domain whose name servers never answer: its query ends only when
 * cancelled, as a real resolver's does. */
#define HUNG_DOMAIN "hung.example"

/* A resolver that answers MX queries from a table: domain → MX hosts. */
typedef struct {
  GResolver parent_instance;
  GHashTable *mx;  /* domain → NULL-terminated char*[] */
  guint hung_queries;      /* queries for HUNG_DOMAIN started */
  guint hung_cancelled;    /* ... and stopped by cancellation */
} FakeResolver;

typedef struct {
  GResolverClass parent_class;
} FakeResolverClass;

GType fake_resolver_get_type (void);
G_DEFINE_TYPE (FakeResolver, fake_resolver, G_TYPE_RESOLVER)

static GList *
fake_records (FakeResolver *self,
              const char *domain,
              GError **error)
{
  const char * const *hosts = g_hash_table_lookup (self->mx, domain);
  GList *records = NULL;

  if (hosts == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   "No MX records for %s", domain);
      return NULL;
    }

  for (guint16 i = 0; hosts[i] != NULL; i++)
    records = g_list_append (records, g_variant_ref_sink (g_variant_new ("(qs)", 10 * (i + 1),
                                                                         hosts[i])));
  return records;
}

static gboolean
hung_query_cancelled (GCancellable *cancellable,
                      gpointer user_data)
{
  GTask *task = user_data;
  FakeResolver *self = g_task_get_source_object (task);

  self->hung_cancelled++;
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

static void
fake_lookup_records_async (GResolver *resolver,
                           const char *domain,
                           GResolverRecordType type,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *records;

  g_assert_cmpint (type, ==, G_RESOLVER_RECORD_MX);

  if (g_str_equal (domain, HUNG_DOMAIN))
    {
      g_autoptr(GSource) source = NULL;

      /* Without a cancellable nothing could ever stop this query. */
      g_assert_nonnull (cancellable);
      ((FakeResolver *) resolver)->hung_queries++;
      source = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, source, G_SOURCE_FUNC (hung_query_cancelled));
      return;
    }

  records = fake_records ((FakeResolver *) resolver, domain, &error);
  if (records == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, records, NULL);
}

static GList *
fake_lookup_records_finish (GResolver *resolver,
                            GAsyncResult *result,
                            GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fake_resolver_finalize (GObject *object)
{
  g_hash_table_unref (((FakeResolver *) object)->mx);
  G_OBJECT_CLASS (fake_resolver_parent_class)->finalize (object);
}

static void
fake_resolver_init (FakeResolver *self)
{
  self->mx = g_hash_table_new (g_str_hash, g_str_equal);
}

static void
fake_resolver_class_init (FakeResolverClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_resolver_finalize;
  G_RESOLVER_CLASS (klass)->lookup_records_async = fake_lookup_records_async;
  G_RESOLVER_CLASS (klass)->lookup_records_finish = fake_lookup_records_finish;
}

static const char *icloud_mx[] = { "mx01.mail.icloud.com.", "mx02.mail.icloud.com.", NULL };
static const char *other_mx[] = { "mx.example.net", NULL };
static const char *lookalike_mx[] = { "mx.evilmail.icloud.com.example", "notmail.icloud.com", NULL };

static MsProviderRegistry *
shipped_registry (void)
{
  const char *dirs[] = { NULL, NULL };
  g_autofree char *dir = g_build_filename (g_getenv ("MAILSETUP_DATADIR"), "providers", NULL);

  dirs[0] = dir;
  return ms_provider_registry_new (dirs);
}

static FakeResolver *fake_resolver;

static void
install_fake_resolver (void)
{
  FakeResolver *resolver = g_object_new (fake_resolver_get_type (), NULL);

  fake_resolver = resolver;
  g_hash_table_insert (resolver->mx, "custom.example", icloud_mx);
  g_hash_table_insert (resolver->mx, "other.example", other_mx);
  g_hash_table_insert (resolver->mx, "lookalike.example", lookalike_mx);
  g_resolver_set_default (G_RESOLVER (resolver));
  g_object_unref (resolver);
}

static void
on_done (GObject *source,
         GAsyncResult *result,
         gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static MsProvider *
mx_provider (MsProviderRegistry *registry,
             const char *domain)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  MsProvider *provider;

  ms_mx_lookup_async (registry, domain, NULL, on_done, &result);
  provider = ms_mx_lookup_finish (wait_for (&result), &error);
  g_assert_no_error (error);
  return provider;
}

static void
test_icloud_mx (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();
  g_autoptr(MsProvider) provider = mx_provider (registry, "custom.example");

  g_assert_nonnull (provider);
  g_assert_cmpstr (provider->id, ==, "icloud.com");
}

static void
test_other_mx (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();

  g_assert_null (mx_provider (registry, "other.example"));
  g_assert_null (mx_provider (registry, "lookalike.example"));
  g_assert_null (mx_provider (registry, "no-mx.example"));
}

/* Whether the hung query has been cancelled, within a second. */
static gboolean
wait_hung_query_cancelled (guint cancelled_before)
{
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;

  while (fake_resolver->hung_cancelled == cancelled_before &&
         g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  return fake_resolver->hung_cancelled > cancelled_before;
}

/* A name server that never answers: the lookup ends at its bound with a
 * time-out that names the domain, and the query itself is stopped. */
static void
test_hung_dns_times_out (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MsProvider) provider = NULL;
  guint queries = fake_resolver->hung_queries;
  guint cancelled = fake_resolver->hung_cancelled;
  gint64 started = g_get_monotonic_time ();
  gint64 elapsed_ms;

  ms_mx_lookup_with_timeout_async (registry, HUNG_DOMAIN, 300, NULL, on_done, &result);
  provider = ms_mx_lookup_finish (wait_for (&result), &error);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;

  g_assert_null (provider);
  g_assert_error (error, MS_ERROR, MS_ERROR_TIMEOUT);
  g_assert_cmpuint (fake_resolver->hung_queries, ==, queries + 1);
  g_assert_cmpint (elapsed_ms, >=, 300);
  g_assert_cmpint (elapsed_ms, <, 300 + 500);
  /* What a person reads: which domain, what was slow, for how long. */
  g_assert_nonnull (strstr (error->message, HUNG_DOMAIN));
  g_assert_nonnull (strstr (error->message, "MX"));
  g_assert_nonnull (strstr (error->message, "1 second"));
  g_assert_true (wait_hung_query_cancelled (cancelled));
}

/* The lookup the daemon makes (through ms_address_resolve_async) has the
 * default bound, well inside a validation's 20 s. */
static void
test_hung_dns_default_bound (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MsProvider) provider = NULL;
  guint cancelled = fake_resolver->hung_cancelled;
  gint64 started = g_get_monotonic_time ();
  gint64 elapsed_ms;

  g_assert_cmpint (MS_MX_LOOKUP_TIMEOUT_MS, <=, 5000);
  ms_mx_lookup_async (registry, HUNG_DOMAIN, NULL, on_done, &result);
  provider = ms_mx_lookup_finish (wait_for (&result), &error);
  elapsed_ms = (g_get_monotonic_time () - started) / 1000;

  g_assert_null (provider);
  g_assert_error (error, MS_ERROR, MS_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed_ms, >=, MS_MX_LOOKUP_TIMEOUT_MS);
  g_assert_cmpint (elapsed_ms, <, MS_MX_LOOKUP_TIMEOUT_MS + 500);
  g_assert_nonnull (strstr (error->message, "5 seconds"));
  g_assert_true (wait_hung_query_cancelled (cancelled));
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* A caller that gives up stops the lookup at once, before its bound. */
static void
test_hung_dns_cancelled (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MsProvider) provider = NULL;
  guint cancelled = fake_resolver->hung_cancelled;
  gint64 started = g_get_monotonic_time ();

  ms_mx_lookup_with_timeout_async (registry, HUNG_DOMAIN, 10000, cancellable, on_done, &result);
  g_timeout_add (100, cancel_now, cancellable);
  provider = ms_mx_lookup_finish (wait_for (&result), &error);

  g_assert_null (provider);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 2 * G_USEC_PER_SEC);
  g_assert_true (wait_hung_query_cancelled (cancelled));
}

static MsResolvedAddress *
resolve (MsProviderRegistry *registry,
         const char *address,
         const char *login,
         gboolean login_required,
         GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ms_address_resolve_async (registry, address, login, login_required, MS_MX_LOOKUP_TIMEOUT_MS,
                            NULL, on_done, &result);
  return ms_address_resolve_finish (wait_for (&result), error);
}

static void
test_resolve (void)
{
  g_autoptr(MsProviderRegistry) registry = shipped_registry ();
  g_autoptr(GError) error = NULL;
  MsResolvedAddress *resolved;

  /* A known domain needs no DNS and no login. */
  resolved = resolve (registry, "Jane@ICLOUD.com", NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resolved->address, ==, "Jane@icloud.com");
  g_assert_false (resolved->custom_domain);
  g_assert_null (resolved->login);
  ms_resolved_address_free (resolved);

  /* A custom domain: found by MX, and it must name its login. */
  resolved = resolve (registry, "me@custom.example", NULL, TRUE, &error);
  g_assert_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
  g_assert_nonnull (strstr (error->message, "login"));
  g_assert_null (resolved);
  g_clear_error (&error);

  resolved = resolve (registry, "me@custom.example", NULL, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (resolved->custom_domain);
  g_assert_cmpstr (resolved->provider->id, ==, "icloud.com");
  ms_resolved_address_free (resolved);

  resolved = resolve (registry, "me@custom.example", " Jane@me.com ", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resolved->login, ==, "Jane@me.com");
  g_assert_cmpstr (resolved->address, ==, "me@custom.example");
  ms_resolved_address_free (resolved);

  /* The login must be at the same provider. */
  resolved = resolve (registry, "me@custom.example", "jane@other.example", TRUE, &error);
  g_assert_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
  g_assert_null (resolved);
  g_clear_error (&error);

  /* Another provider's MX: unknown, and the message names the domain. */
  resolved = resolve (registry, "me@other.example", NULL, TRUE, &error);
  g_assert_error (error, MS_ERROR, MS_ERROR_UNKNOWN_PROVIDER);
  g_assert_nonnull (strstr (error->message, "other.example"));
  g_assert_null (resolved);
}

/* A user's file that defines icloud.com anew (other servers) while the
 * shipped file keeps me.com and mac.com: custom domains follow the
 * user's file, and a login at icloud.com is the same provider. */
static const char override_xml[] =
  "<?xml version=\"1.0\"?>\n"
  "<clientConfig version=\"1.1\" xmlns:ms=\"https://mailsetup.org/ns/provider/1\">\n"
  "  <emailProvider id=\"icloud.com\">\n"
  "    <domain>icloud.com</domain>\n"
  "    <displayName>iCloud Mail</displayName>\n"
  "    <incomingServer type=\"imap\"><hostname>imap.mine.example</hostname>"
  "<port>993</port><socketType>SSL</socketType>"
  "<username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>"
  "</incomingServer>\n"
  "    <outgoingServer type=\"smtp\"><hostname>smtp.mine.example</hostname>"
  "<port>587</port><socketType>STARTTLS</socketType>"
  "<username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>"
  "</outgoingServer>\n"
  "    <ms:mxDomain>mail.icloud.com</ms:mxDomain>\n"
  "  </emailProvider>\n"
  "</clientConfig>\n";

static void
test_override_of_one_domain (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *user_dir = g_dir_make_tmp ("mailsetup-test-mx-XXXXXX", &error);
  g_autofree char *user_file = NULL;
  g_autofree char *shipped_dir = g_build_filename (g_getenv ("MAILSETUP_DATADIR"), "providers", NULL);
  const char *dirs[] = { user_dir, shipped_dir, NULL };
  g_autoptr(MsProviderRegistry) registry = NULL;
  g_autoptr(MsProvider) by_mx = NULL;
  MsResolvedAddress *resolved;

  g_assert_no_error (error);
  user_file = g_build_filename (user_dir, "icloud.xml", NULL);
  g_assert_true (g_file_set_contents (user_file, override_xml, -1, &error));
  registry = ms_provider_registry_new (dirs);

  /* The shipped file still serves me.com; the user's file icloud.com. */
  g_assert_cmpstr (((MsEndpoint *) ms_provider_registry_lookup (registry, "me.com")->imap->pdata[0])->hostname,
                   ==, "imap.mail.me.com");
  by_mx = mx_provider (registry, "custom.example");
  g_assert_nonnull (by_mx);
  g_assert_cmpstr (((MsEndpoint *) by_mx->imap->pdata[0])->hostname, ==, "imap.mine.example");

  resolved = resolve (registry, "me@custom.example", "jane@icloud.com", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((MsEndpoint *) resolved->provider->imap->pdata[0])->hostname, ==, "imap.mine.example");
  ms_resolved_address_free (resolved);

  /* Signing in with a me.com address: the same provider (by id), and its
   * servers are those of the address signed in with. */
  resolved = resolve (registry, "me@custom.example", "jane@me.com", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((MsEndpoint *) resolved->provider->imap->pdata[0])->hostname, ==, "imap.mail.me.com");
  ms_resolved_address_free (resolved);

  g_unlink (user_file);
  g_rmdir (user_dir);
}

int
main (int argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("MAILSETUP_DATADIR") == NULL)
    g_error ("Set MAILSETUP_DATADIR to the source tree's data/ folder (meson test does)");
  g_unsetenv ("MAILSETUP_OFFLINE");
  install_fake_resolver ();

  g_test_add_func ("/mx/icloud", test_icloud_mx);
  g_test_add_func ("/mx/other", test_other_mx);
  g_test_add_func ("/mx/resolve-address", test_resolve);
  g_test_add_func ("/mx/override-of-one-domain", test_override_of_one_domain);
  g_test_add_func ("/mx/hung-dns/times-out", test_hung_dns_times_out);
  g_test_add_func ("/mx/hung-dns/default-bound", test_hung_dns_default_bound);
  g_test_add_func ("/mx/hung-dns/cancelled", test_hung_dns_cancelled);

  return g_test_run ();
}
