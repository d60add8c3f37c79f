/* secret-items.h: listing and deleting Secret Service items by their
 * D-Bus paths
 *
 * libsecret loads every item a search finds as an object, and 0.20
 * answers its caller twice when an item vanishes meanwhile (another
 * removal, the person in Seahorse).  Listing and deleting need no item
 * objects: these talk to org.freedesktop.Secret.Service directly, and an
 * item that is already gone is simply skipped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Deletes every item whose attributes include @attributes.
 * Errors: those of the bus (no Secret Service, locked, …). */
void ms_secret_items_delete_async (GHashTable *attributes,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean ms_secret_items_delete_finish (GAsyncResult *result,
                                        GError **error);

/* The values of attribute @key of every item whose attributes include
 * @attributes, locked items included.
 * Returns: (transfer full) (element-type utf8) */
void ms_secret_items_list_async (GHashTable *attributes,
                                 const char *key,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
GPtrArray *ms_secret_items_list_finish (GAsyncResult *result,
                                        GError **error);

/* How many items whose attributes include @attributes are locked: their
 * secrets cannot be read or deleted until the keyring is unlocked.
 * Returns: the count, or -1 with @error set. */
void ms_secret_items_count_locked_async (GHashTable *attributes,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gssize ms_secret_items_count_locked_finish (GAsyncResult *result,
                                            GError **error);

G_END_DECLS
