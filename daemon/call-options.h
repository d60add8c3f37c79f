/* call-options.h: the a{sv} options of the Manager's methods
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint timeout_ms;     /* "timeout-ms" (u), MS_VALIDATION_DEFAULT_TIMEOUT_MS if absent */
  char *operation_id;   /* "operation-id" (s), a new random id if absent */
  char *display_name;   /* "display-name" (s), or NULL */
  char *login;          /* "login" (s): the address to sign in with, or NULL */
  char *password;       /* "password" (s, Diagnose only), or NULL; wiped */
} MsCallOptions;

/* Unknown keys are ignored so that newer clients work with this daemon;
 * known keys must have the right type (G_DBUS_ERROR_INVALID_ARGS), and a
 * password must pass ms_password_check(). */
gboolean ms_call_options_parse (GVariant *dict,
                                MsCallOptions *options,
                                GError **error);

void ms_call_options_clear (MsCallOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsCallOptions, ms_call_options_clear)

G_END_DECLS
