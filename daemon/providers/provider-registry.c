/* provider-registry.c: finding the provider for a domain
 *
 * Precedence is per domain, and the first definition read wins: folders
 * are read from the highest priority down and the files in each folder in
 * name order (so "10-test.xml" beats "icloud.xml" in the same folder).  A
 * user file that defines only icloud.com therefore overrides icloud.com
 * and leaves me.com and mac.com to the shipped file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "provider-registry.h"

#include <string.h>

#include "provider-parser.h"

struct _MsProviderRegistry {
  GStrv dirs;
  /* Lookups may come from worker threads; the table is read-only once
   * loaded. */
  GMutex lock;
  gboolean loaded;
  GHashTable *providers; /* domain → MsProvider* (a reference each) */
  GPtrArray *by_rank;    /* every provider that won a domain, the files
                          * of higher rank (the user's) first */
};

MsProviderRegistry *
ms_provider_registry_new (const char * const *dirs)
{
  MsProviderRegistry *registry;

  g_return_val_if_fail (dirs != NULL, NULL);

  registry = g_new0 (MsProviderRegistry, 1);
  registry->dirs = g_strdupv ((char **) dirs);
  g_mutex_init (&registry->lock);
  registry->providers =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                           (GDestroyNotify) ms_provider_unref);

  return registry;
}

MsProviderRegistry *
ms_provider_registry_new_default (void)
{
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  const char * const *config_dirs = g_get_system_config_dirs ();
  const char *datadir = g_getenv ("MAILSETUP_DATADIR");

  g_ptr_array_add (dirs, g_build_filename (g_get_user_config_dir (),
                                           "mailsetup", "providers", NULL));
  for (guint i = 0; config_dirs[i] != NULL; i++)
    g_ptr_array_add (dirs, g_build_filename (config_dirs[i],
                                             "mailsetup", "providers", NULL));
  g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (),
                                           "mailsetup", "providers", NULL));

  /* Set when running from the build tree. */
  if (datadir != NULL && datadir[0] != '\0')
    g_ptr_array_add (dirs, g_build_filename (datadir, "providers", NULL));
  else
    g_ptr_array_add (dirs, g_build_filename (MAILSETUP_DATADIR,
                                             "providers", NULL));

  g_ptr_array_add (dirs, NULL);

  return ms_provider_registry_new ((const char * const *) dirs->pdata);
}

void
ms_provider_registry_free (MsProviderRegistry *registry)
{
  if (registry == NULL)
    return;

  g_strfreev (registry->dirs);
  g_mutex_clear (&registry->lock);
  g_hash_table_unref (registry->providers);
  g_clear_pointer (&registry->by_rank, g_ptr_array_unref);
  g_free (registry);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The "*.xml" files in @dir, sorted by name; NULL if the folder cannot be
 * read (most often because it does not exist). */
static GPtrArray *
list_files (const char *dir)
{
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  handle = g_dir_open (dir, 0, &error);
  if (handle == NULL)
    {
      /* Most of the search path is absent on any given system. */
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
          && !g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
        g_warning ("Cannot read the provider folder %s: %s",
                   dir, error->message);
      return NULL;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      /* Editors' backups and hidden files are not meant to be read. */
      if (name[0] != '.' && g_str_has_suffix (name, ".xml"))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_names);

  return g_steal_pointer (&names);
}

static void
load_file (MsProviderRegistry *registry,
           const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider = NULL;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      g_warning ("Skipping provider file %s: %s", path, error->message);
      return;
    }

  provider = ms_provider_parse (contents, length, path, &error);
  if (provider == NULL)
    {
      /* The message names the file and line. */
      g_warning ("Skipping provider file: %s", error->message);
      return;
    }

  for (guint i = 0; i < provider->domains->len; i++)
    {
      const char *domain = g_ptr_array_index (provider->domains, i);

      if (g_hash_table_contains (registry->providers, domain))
        {
          g_debug ("%s: %s is already defined by a file read earlier",
                   path, domain);
          continue;
        }

      g_hash_table_insert (registry->providers, g_strdup (domain),
                           ms_provider_ref (provider));
      if (!g_ptr_array_find (registry->by_rank, provider, NULL))
        g_ptr_array_add (registry->by_rank, ms_provider_ref (provider));
    }
}

static void
load (MsProviderRegistry *registry)
{
  registry->by_rank = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_provider_unref);

  for (guint i = 0; registry->dirs[i] != NULL; i++)
    {
      const char *dir = registry->dirs[i];
      g_autoptr (GPtrArray) names = list_files (dir);

      if (names == NULL)
        continue;

      for (guint j = 0; j < names->len; j++)
        {
          g_autofree char *path =
            g_build_filename (dir, g_ptr_array_index (names, j), NULL);

          load_file (registry, path);
        }
    }

  g_debug ("Read %u provider domains", g_hash_table_size (registry->providers));
}

static void
ensure_loaded (MsProviderRegistry *registry)
{
  g_mutex_lock (&registry->lock);
  if (!registry->loaded)
    {
      load (registry);
      registry->loaded = TRUE;
    }
  g_mutex_unlock (&registry->lock);
}

MsProvider *
ms_provider_registry_lookup_mx (MsProviderRegistry *registry,
                                const char *mx_host)
{
  ensure_loaded (registry);

  /* In rank order: a user's file for a provider claims its MX hosts
   * before the shipped one, as it claims its domains. */
  for (guint i = 0; i < registry->by_rank->len; i++)
    {
      MsProvider *provider = registry->by_rank->pdata[i];

      if (ms_provider_handles_mx (provider, mx_host))
        return provider;
    }

  return NULL;
}

MsProvider *
ms_provider_registry_lookup (MsProviderRegistry *registry,
                             const char *domain)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);

  if (!g_utf8_validate (domain, -1, NULL))
    return NULL;

  ensure_loaded (registry);

  /* Cheap insurance against a caller that skipped normalisation. */
  key = g_utf8_strdown (domain, -1);
  return g_hash_table_lookup (registry->providers, key);
}

const char * const *
ms_provider_registry_get_dirs (MsProviderRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);

  return (const char * const *) registry->dirs;
}
