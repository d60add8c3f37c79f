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
  MsSecurity security;
  int port;

  host = g_key_file_get_string (keyfile, group, host_key, error);
  if (host == NULL)
    return FALSE;
  port = g_key_file_get_integer (keyfile, group, port_key, error);
  if (port == 0 && error && *error)
    return FALSE;
  security_name = g_key_file_get_string (keyfile, group, security_key, error);
  if (security_name == NULL)
    return FALSE;
  username = g_key_file_get_string (keyfile, group, username_key, error);
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
  account->address = g_key_file_get_string (keyfile, group, "Address", error);
  if (account->address == NULL)
    return NULL;
  account->provider = g_key_file_get_string (keyfile, group, "Provider", error);
  if (account->provider == NULL)
    return NULL;
  account->display_name = g_key_file_get_string (keyfile, group, "DisplayName", NULL);

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

  return g_steal_pointer (&account);
}

static GPtrArray *
parse (const char *path,
       GError **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_account_data_free);
  g_autoptr(GHashTable) addresses = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, error))
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

GPtrArray *
ms_account_file_load (MsAccountFile *file,
                      char **damaged_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *aside = NULL;
  GPtrArray *accounts;

  accounts = parse (file->path, &error);
  if (accounts != NULL)
    return accounts;

  if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) ms_account_data_free);

  /* Keep the person's data: never overwrite a file we could not read. */
  aside = g_strdup_printf ("%s.bad-%" G_GINT64_FORMAT, file->path,
                           g_get_real_time () / G_USEC_PER_SEC);
  if (g_rename (file->path, aside) == 0)
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
