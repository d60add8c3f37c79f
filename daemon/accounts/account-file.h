/* account-file.h: accounts.conf, read at start-up and replaced atomically
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "account-data.h"

G_BEGIN_DECLS

typedef struct _MsAccountFile MsAccountFile;

/* @path: NULL for $XDG_CONFIG_HOME/mailsetup/accounts.conf.
 * Returns: (transfer full) */
MsAccountFile *ms_account_file_new (const char *path);
void ms_account_file_free (MsAccountFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAccountFile, ms_account_file_free)

/* (transfer none) */
const char *ms_account_file_get_path (MsAccountFile *file);

/* Reads the accounts.  A missing file is no accounts.  A damaged file
 * (not a key file, or an account with missing or bad keys) is renamed to
 * "accounts.conf.bad-<unix time>", @damaged_path is set to that name, and
 * no accounts are returned; if it cannot be moved aside, later saves fail
 * rather than overwrite it.
 * Returns: (transfer full) (element-type MsAccountData) */
GPtrArray *ms_account_file_load (MsAccountFile *file,
                                 char **damaged_path);

/* Parses the text of an accounts file, @len bytes of @data; touches no
 * file.  Fails with a GKeyFileError for text that is not a key file, an
 * account with missing or bad keys, or an address that appears twice.
 * Returns: (transfer full) (element-type MsAccountData): the accounts,
 * or NULL. */
GPtrArray *ms_account_file_parse_data (const char *data,
                                       gsize len,
                                       GError **error);

/* Writes @accounts (copied now) to the file in a worker thread: a
 * temporary file, fsync, then rename over the old one, mode 0600 in a
 * 0700 folder.  Saves complete in the order they were asked for. */
void ms_account_file_save_async (MsAccountFile *file,
                                 GPtrArray *accounts,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean ms_account_file_save_finish (MsAccountFile *file,
                                      GAsyncResult *result,
                                      GError **error);

/* The file's text for @accounts (transfer full). */
char *ms_account_file_serialize (GPtrArray *accounts);

G_END_DECLS
