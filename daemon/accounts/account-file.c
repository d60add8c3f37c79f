/* account-file.c: accounts.conf, read at start-up and replaced atomically
 *
 * The file holds one group per account, named after its id (an id is
 * plain hex, so no address can upset the key-file syntax).  Passwords are
 * never here: they live in the Secret Service.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "account-file.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "address.h"

#define GROUP_PREFIX "Account "

struct _MsAccountFile {
  char *path;
  /* One writer thread, so saves land in the order they were made. */
  GThreadPool *writer;
  /* Set when a damaged file could not be moved aside: it stays as it is. */
  gboolean frozen;
};

typedef struct {
  GTask *task;
  char *contents;
} SaveJob;

static void
write_file (gpointer data,
            gpointer user_data)
{
  SaveJob *job = data;
  MsAccountFile *file = user_data;
  g_autofree char *dir = g_path_get_dirname (file->path);
  g_autoptr(GError) error = NULL;

  if (g_mkdir_with_parents (dir, 0700) < 0 || g_chmod (dir, 0700) < 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (job->task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Cannot create the folder %s: %s"), dir,
                               g_strerror (saved_errno));
    }
  else if (!g_file_set_contents_full (file->path, job->contents, -1,
                                      G_FILE_SET_CONTENTS_CONSISTENT |
                                      G_FILE_SET_CONTENTS_DURABLE,
                                      0600, &error))
    {
      g_task_return_error (job->task, g_steal_pointer (&error));
    }
  else
    {
      g_task_return_boolean (job->task, TRUE);
    }

  g_object_unref (job->task);
  g_free (job->contents);
  g_free (job);
}

MsAccountFile *
ms_account_file_new (const char *path)
{
  MsAccountFile *file = g_new0 (MsAccountFile, 1);

  file->path = path ? g_strdup (path)
                    : g_build_filename (g_get_user_config_dir (), "mailsetup",
                                        "accounts.conf", NULL);
  file->writer = g_thread_pool_new (write_file, file, 1, FALSE, NULL);

  return file;
}

void
ms_account_file_free (MsAccountFile *file)
{
  if (file == NULL)
    return;

  /* Finishes the saves already asked for: a reply may have promised them. */
  g_thread_pool_free (file->writer, FALSE, TRUE);
  g_free (file->path);
  g_free (file);
}

const char *
ms_account_file_get_path (MsAccountFile *file)
{
  return file->path;
}

static void
set_endpoint (GKeyFile *keyfile,
              const char *group,
              const char *prefix,
              const MsEndpoint *endpoint)
{
  g_autofree char *host = g_strconcat (prefix, "Host", NULL);
  g_autofree char *port = g_strconcat (prefix, "Port", NULL);
  g_autofree char *security = g_strconcat (prefix, "Security", NULL);
  g_autofree char *username = g_strconcat (prefix, "Username", NULL);

  g_key_file_set_string (keyfile, group, host, endpoint->hostname);
  g_key_file_set_integer (keyfile, group, port, endpoint->port);
  g_key_file_set_string (keyfile, group, security, ms_security_to_string (endpoint->security));
  g_key_file_set_string (keyfile, group, username, endpoint->username_template);
}

char *
ms_account_file_serialize (GPtrArray *accounts)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *body = NULL;

  for (guint i = 0; i < accounts->len; i++)
    {
      const MsAccountData *account = accounts->pdata[i];
      g_autofree char *group = g_strconcat (GROUP_PREFIX, account->id, NULL);

      g_key_file_set_string (keyfile, group, "Address", account->address);
      g_key_file_set_string (keyfile, group, "Provider", account->provider);
      if (account->display_name != NULL)
        g_key_file_set_string (keyfile, group, "DisplayName", account->display_name);
      if (account->login != NULL)
        g_key_file_set_string (keyfile, group, "Login", account->login);
      set_endpoint (keyfile, group, "Imap", account->imap);
      set_endpoint (keyfile, group, "Smtp", account->smtp);
      if (account->smtp_max_message_size > 0)
        g_key_file_set_uint64 (keyfile, group, "SmtpMaxMessageSize",
                               account->smtp_max_message_size);
      g_key_file_set_int64 (keyfile, group, "LastChecked", account->last_checked);
    }

  body = g_key_file_to_data (keyfile, NULL, NULL);
  return g_strconcat ("# Written by mailsetupd; edits are lost when it saves.\n"
                      "# Passwords are kept in the Secret Service, not here.\n\n",
                      body, NULL);
}

/* A required string.  g_key_file_get_string() returns a value with an
 * invalid escape sequence ("\\l") and sets an error as well: that value
 * is damaged, and going on would set the next error over this one. */
static char *
get_string (GKeyFile *keyfile,
            const char *group,
            const char *key,
            GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (keyfile, group, key, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return g_steal_pointer (&value);
}

static gboolean
read_endpoint (GKeyFile *keyfile,
               const char *group,
               const char *prefix,
               MsEndpoint **endpoint_out,
               GError **error)
{
  g_autofree char *host_key = g_strconcat (prefix, "Host", NULL);
  g_autofree char *port_key = g_strconcat (prefix, "Port", NULL);
  g_autofree char *security_key = g_strconcat (prefix, "Security", NULL);
  g_autofree char *username_key = g_strconcat (prefix, "Username", NULL);
  g_autofree char *host = NULL;
  g_autofree char *security_name = NULL;
  g_autofree char *username = NULL;
  g_autoptr(GError) port_error = NULL;
  MsSecurity security;
  int port;

  host = get_string (keyfile, group, host_key, error);
  if (host == NULL)
    return FALSE;
  port = g_key_file_get_integer (keyfile, group, port_key, &port_error);
  if (port_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&port_error));
      return FALSE;
    }
  security_name = get_string (keyfile, group, security_key, error);
  if (security_name == NULL)
    return FALSE;
  username = get_string (keyfile, group, username_key, error);
  if (username == NULL)
    return FALSE;

  if (*host == '\0' || *username == '\0' || port < 1 || port > 65535 ||
      !ms_security_from_string (security_name, &security))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] has a bad %s server (%s, port %d, security %s)", group,
                   prefix, host, port, security_name);
      return FALSE;
    }

  *endpoint_out = ms_endpoint_new (host, port, security, username);
  return TRUE;
}

static MsAccountData *
read_account (GKeyFile *keyfile,
              const char *group,
              GError **error)
{
  g_autoptr(MsAccountData) account = ms_account_data_new ();
  g_autofree char *normalized = NULL;
  const char *id = group + strlen (GROUP_PREFIX);

  for (const char *p = id; *p; p++)
    if (!g_ascii_isxdigit (*p))
      {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                     "[%s] is not a valid account id", group);
        return NULL;
      }

  account->id = g_strdup (id);
  account->address = get_string (keyfile, group, "Address", error);
  if (account->address == NULL)
    return NULL;
  account->provider = get_string (keyfile, group, "Provider", error);
  if (account->provider == NULL)
    return NULL;
  account->display_name = g_key_file_get_string (keyfile, group, "DisplayName", NULL);
  account->login = g_key_file_get_string (keyfile, group, "Login", NULL);

  if (!read_endpoint (keyfile, group, "Imap", &account->imap, error) ||
      !read_endpoint (keyfile, group, "Smtp", &account->smtp, error))
    return NULL;

  account->smtp_max_message_size = g_key_file_get_uint64 (keyfile, group,
                                                          "SmtpMaxMessageSize", NULL);
  account->last_checked = g_key_file_get_int64 (keyfile, group, "LastChecked", NULL);

  normalized = ms_address_normalize (account->address, NULL);
  if (*id == '\0' || normalized == NULL || strcmp (normalized, account->address) != 0)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[%s] has a bad address", group);
      return NULL;
    }
  if (account->login != NULL)
    {
      g_autofree char *login = ms_address_normalize (account->login, NULL);

      if (login == NULL || strcmp (login, account->login) != 0)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "[%s] has a bad login", group);
          return NULL;
        }
    }

  return g_steal_pointer (&account);
}

GPtrArray *
ms_account_file_parse_data (const char *data,
                            gsize len,
                            GError **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_account_data_free);
  g_autoptr(GHashTable) addresses = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (!g_key_file_load_from_data (keyfile, data != NULL ? data : "", len,
                                  G_KEY_FILE_NONE, error))
    return NULL;

  groups = g_key_file_get_groups (keyfile, NULL);
  for (char **group = groups; *group; group++)
    {
      MsAccountData *account;

      if (!g_str_has_prefix (*group, GROUP_PREFIX))
        continue;

      account = read_account (keyfile, *group, error);
      if (account == NULL)
        return NULL;
      g_ptr_array_add (accounts, account);

      if (!g_hash_table_add (addresses, account->address))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s appears twice", account->address);
          return NULL;
        }
    }

  return g_steal_pointer (&accounts);
}

static char *
unused_name_aside (const char *path)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (int n = 0; n < 100; n++)
    {
      g_autofree char *name = n == 0
        ? g_strdup_printf ("%s.bad-%" G_GINT64_FORMAT, path, now)
        : g_strdup_printf ("%s.bad-%" G_GINT64_FORMAT "-%d", path, now, n);

      if (!g_file_test (name, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
        return g_steal_pointer (&name);
    }

  return NULL;
}

/* g_file_set_contents() writes "accounts.conf.XXXXXX" and renames it; a
 * crash between the two leaves the temporary file behind. */
static void
remove_stale_temporary_files (const char *path)
{
  g_autofree char *dir_name = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr(GDir) dir = g_dir_open (dir_name, 0, NULL);
  gsize base_len = strlen (base);
  const char *entry;

  if (dir == NULL)
    return;

  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stale = NULL;
      gboolean temporary = strncmp (entry, base, base_len) == 0 &&
                           entry[base_len] == '.' && strlen (entry + base_len + 1) == 6;

      for (const char *p = entry + base_len + 1; temporary && *p; p++)
        temporary = g_ascii_isalnum (*p);
      if (!temporary)
        continue;

      stale = g_build_filename (dir_name, entry, NULL);
      if (g_unlink (stale) == 0)
        g_debug ("Removed %s, left by an interrupted save", stale);
    }
}

GPtrArray *
ms_account_file_load (MsAccountFile *file,
                      char **damaged_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *aside = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  GPtrArray *accounts = NULL;

  /* Only at start-up: no save of ours is under way. */
  remove_stale_temporary_files (file->path);

  if (g_file_get_contents (file->path, &data, &len, &error))
    accounts = ms_account_file_parse_data (data, len, &error);
  if (accounts != NULL)
    return accounts;

  if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) ms_account_data_free);

  /* Keep the person's data: never overwrite a file we could not read, nor
   * one kept aside earlier (two damages in one second, a clock set back). */
  aside = unused_name_aside (file->path);
  if (aside != NULL && g_rename (file->path, aside) == 0)
    {
      g_warning ("%s is damaged (%s); kept it as %s and started with no accounts",
                 file->path, error->message, aside);
      if (damaged_path != NULL)
        *damaged_path = g_steal_pointer (&aside);
    }
  else
    {
      g_warning ("%s is damaged (%s) and cannot be moved aside (%s); "
                 "leaving it alone and not saving accounts",
                 file->path, error->message, g_strerror (errno));
      file->frozen = TRUE;
      if (damaged_path != NULL)
        *damaged_path = g_strdup (file->path);
    }

  return g_ptr_array_new_with_free_func ((GDestroyNotify) ms_account_data_free);
}

void
ms_account_file_save_async (MsAccountFile *file,
                            GPtrArray *accounts,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  SaveJob *job;

  g_task_set_source_tag (task, ms_account_file_save_async);

  if (file->frozen)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("%s is damaged and could not be moved aside; "
                                 "mailsetup does not overwrite it. Move it away "
                                 "and restart mailsetupd."), file->path);
      g_object_unref (task);
      return;
    }

  job = g_new0 (SaveJob, 1);
  job->task = task;
  job->contents = ms_account_file_serialize (accounts);
  g_thread_pool_push (file->writer, job, NULL);
}

gboolean
ms_account_file_save_finish (MsAccountFile *file,
                             GAsyncResult *result,
                             GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
