/* test-mx.c: custom mail domains recognised by their MX records, with a
 * GResolver test double instead of the network
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "address-resolver.h"
#include "mailsetup-error.h"
#include "mx-lookup.h"
#include "provider-registry.h"

/* A resolver that answers MX queries from a table: domain → MX hosts. */
typedef struct {
  GResolver parent_instance;
  GHashTable *mx;  /* domain → NULL-terminated char*[] */
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

static void
install_fake_resolver (void)
{
  FakeResolver *resolver = g_object_new (fake_resolver_get_type (), NULL);

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

static MsResolvedAddress *
resolve (MsProviderRegistry *registry,
         const char *address,
         const char *login,
         gboolean login_required,
         GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ms_address_resolve_async (registry, address, login, login_required, NULL, on_done, &result);
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

  return g_test_run ();
}
