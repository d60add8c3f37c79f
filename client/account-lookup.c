/* account-lookup.c: finding the daemon's accounts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "account-lookup.h"

#include <glib/gi18n.h>
#include <string.h>

#include "address.h"
#include "mailsetup-error.h"
#include "settings-format.h"

static int
compare_by_address (gconstpointer a, gconstpointer b)
{
  GVariant *first = *(GVariant * const *) a;
  GVariant *second = *(GVariant * const *) b;
  g_autoptr(GVariant) first_properties = g_variant_get_child_value (first, 1);
  g_autoptr(GVariant) second_properties = g_variant_get_child_value (second,
                                                                     1);

  const char *first_address =
    ctl_settings_lookup_string (first_properties, "Address");
  const char *second_address =
    ctl_settings_lookup_string (second_properties, "Address");
  g_autofree char *first_folded = NULL;
  g_autofree char *second_folded = NULL;
  int order;

  if (first_address == NULL || second_address == NULL)
    return g_strcmp0 (first_address, second_address);

  /* As people sort: "jane" next to "John"; the case only breaks ties. */
  first_folded = g_utf8_casefold (first_address, -1);
  second_folded = g_utf8_casefold (second_address, -1);
  order = g_utf8_collate (first_folded, second_folded);

  return order != 0 ? order : strcmp (first_address, second_address);
}

GVariant *
ctl_accounts_get_all (CtlClient *client, DBusError *error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GPtrArray) accounts =
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_auto(GVariantBuilder) builder =
    G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(oa{sv})"));
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;

  reply = ctl_client_call (client, CTL_MANAGER_PATH,
                           "org.freedesktop.DBus.ObjectManager",
                           "GetManagedObjects", NULL,
                           G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), error);
  if (reply == NULL)
    return NULL;

  objects = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) properties =
        g_variant_lookup_value (interfaces, CTL_ACCOUNT_INTERFACE,
                                G_VARIANT_TYPE_VARDICT);

      if (properties != NULL)
        g_ptr_array_add (accounts,
                         g_variant_ref_sink (g_variant_new ("(o@a{sv})", path,
                                                            properties)));
      g_variant_unref (interfaces);
    }

  g_ptr_array_sort (accounts, compare_by_address);
  for (guint i = 0; i < accounts->len; i++)
    g_variant_builder_add_value (&builder, accounts->pdata[i]);

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

CtlAccount *
ctl_account_find (CtlClient *client,
                  const char *address,
                  DBusError *error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *normalized = NULL;
  g_autoptr(GVariant) accounts = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *properties;

  /* The daemon's own rules, so that "Jane@ICLOUD.com " finds the account
   * it made of it, and a message says what is wrong with a typo. */
  normalized = ms_address_normalize (address, &local_error);
  if (normalized == NULL)
    {
      dbus_set_error (error, ms_error_dbus_name (MS_ERROR_INVALID_ADDRESS),
                      "%s", local_error->message);
      return NULL;
    }

  accounts = ctl_accounts_get_all (client, error);
  if (accounts == NULL)
    return NULL;

  g_variant_iter_init (&iter, accounts);
  while (g_variant_iter_next (&iter, "(&o@a{sv})", &path, &properties))
    {
      g_autoptr(GVariant) owned_properties = properties;
      CtlAccount *account;

      if (g_strcmp0 (ctl_settings_lookup_string (properties, "Address"),
                     normalized) != 0)
        continue;

      account = g_new0 (CtlAccount, 1);
      account->path = g_strdup (path);
      account->address = g_steal_pointer (&normalized);
      account->properties = g_steal_pointer (&owned_properties);
      return account;
    }

  dbus_set_error (error, ms_error_dbus_name (MS_ERROR_NO_SUCH_ACCOUNT),
                  _("there is no account for %s"), normalized);
  return NULL;
}

void
ctl_account_free (CtlAccount *account)
{
  if (account == NULL)
    return;

  g_free (account->path);
  g_free (account->address);
  g_clear_pointer (&account->properties, g_variant_unref);
  g_free (account);
}

GVariant *
ctl_account_get_properties (CtlClient *client,
                            const char *path,
                            DBusError *error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = ctl_client_call (client, path, "org.freedesktop.DBus.Properties",
                           "GetAll",
                           g_variant_new ("(s)", CTL_ACCOUNT_INTERFACE),
                           G_VARIANT_TYPE ("(a{sv})"), error);
  if (reply == NULL)
    return NULL;

  return g_variant_get_child_value (reply, 0);
}
