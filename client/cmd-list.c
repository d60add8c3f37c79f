/* cmd-list.c: mailsetupctl list
 *
 * One line per account: its address, how its last check went, and its
 * display name, in columns.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>

#include "account-format.h"
#include "account-lookup.h"
#include "settings-format.h"

#define COLUMN_GAP 2

static void
print_json (GVariant *accounts)
{
  g_auto(GVariantBuilder) builder =
    G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GVariant) list = NULL;
  GVariantIter iter;
  GVariant *properties;

  g_variant_iter_init (&iter, accounts);
  while (g_variant_iter_next (&iter, "(&o@a{sv})", NULL, &properties))
    g_variant_builder_add_value (&builder, properties);

  list = g_variant_ref_sink (g_variant_builder_end (&builder));
  ctl_print_json (list);
}

static void
print_text (GVariant *accounts)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gsize n = g_variant_n_children (accounts);
  guint address_width = 0, status_width = 0;

  if (n == 0)
    {
      ctl_print_text (stdout, _("No accounts.\n"));
      return;
    }

  for (gsize pass = 0; pass < 2; pass++)
    for (gsize i = 0; i < n; i++)
      {
        g_autoptr(GVariant) properties = NULL;
        const char *address, *status, *name;

        g_variant_get_child (accounts, i, "(&o@a{sv})", NULL, &properties);
        address = ctl_settings_lookup_string (properties, "Address");
        status = ctl_account_status_label (
          ctl_settings_lookup_string (properties, "Status"));
        name = ctl_settings_lookup_string (properties, "DisplayName");
        if (address == NULL)
          address = "?";

        /* The first pass measures the columns, the second fills them. */
        if (pass == 0)
          {
            address_width = MAX (address_width, ctl_display_width (address));
            status_width = MAX (status_width, ctl_display_width (status));
            continue;
          }

        ctl_append_padded (text, address, address_width + COLUMN_GAP);
        if (name == NULL)
          {
            g_string_append (text, status);
          }
        else
          {
            ctl_append_padded (text, status, status_width + COLUMN_GAP);
            g_string_append (text, name);
          }
        g_string_append_c (text, '\n');
      }

  ctl_print_text (stdout, text->str);
}

int
ctl_cmd_list (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(GVariant) accounts = NULL;

  accounts = ctl_accounts_get_all (client, &error);
  if (accounts == NULL)
    return ctl_client_report_error (client, &error);

  if (ctl_client_get_json (client))
    print_json (accounts);
  else
    print_text (accounts);

  return CTL_EXIT_OK;
}
