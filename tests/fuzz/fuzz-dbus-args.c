/* fuzz-dbus-args.c: method calls through the bus layer's argument path
 *
 * What the daemon does with a call before anything touches the network
 * or the keyring: libdbus checks the wire message, the bus layer turns
 * its body into a GVariant (bus_message_get_body()) and compares the
 * signature with the interface XML, then the Manager checks the password
 * (ms_password_check()), the options (ms_call_options_parse()) and the
 * address (ms_address_normalize()).  No bus, no network.
 *
 * Two input forms, chosen by the first byte:
 *  - ">": a method call built here, so that mutations reach the body
 *    instead of breaking the header's lengths: ">Member\0signature\0"
 *    then the body in little-endian wire format.  The interface is the
 *    one of dbus-interfaces/ that has the member (the Manager's if none);
 *  - anything else: a whole D-Bus message as on the wire, for
 *    dbus_message_demarshal().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <dbus/dbus.h>
#include <gio/gio.h>
#include <string.h>

#include "address.h"
#include "bus-variant.h"
#include "call-options.h"
#include "password.h"

#define RESOURCE_PATH "/org/mailsetup/MailSetup1/interfaces"
#define OBJECT_PATH "/org/mailsetup/MailSetup1"
#define MANAGER_INTERFACE "org.mailsetup.MailSetup1.Manager"

typedef struct {
  const char *interface;
  GDBusMethodInfo *info;
  char *signature;
} Method;

static GPtrArray *methods; /* of Method *, all methods of all our interfaces */
static GPtrArray *nodes;   /* of GDBusNodeInfo *, which the methods point into */

static void
load_methods (void)
{
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;

  methods = g_ptr_array_new ();
  nodes = g_ptr_array_new ();
  names = g_resources_enumerate_children (RESOURCE_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE,
                                          &error);
  g_assert_no_error (error);

  for (char **name = names; *name != NULL; name++)
    {
      g_autofree char *path = g_build_path ("/", RESOURCE_PATH, *name, NULL);
      g_autoptr(GBytes) bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE,
                                                         &error);
      GDBusNodeInfo *node;

      g_assert_no_error (error);
      /* Kept for the life of the process, like the daemon's. */
      node = g_dbus_node_info_new_for_xml (g_bytes_get_data (bytes, NULL), &error);
      g_assert_no_error (error);
      g_ptr_array_add (nodes, node);

      for (GDBusInterfaceInfo **iface = node->interfaces; iface && *iface; iface++)
        for (GDBusMethodInfo **m = (*iface)->methods; m && *m; m++)
          {
            Method *method = g_new0 (Method, 1);
            GString *signature = g_string_new (NULL);

            for (GDBusArgInfo **arg = (*m)->in_args; arg && *arg; arg++)
              g_string_append (signature, (*arg)->signature);
            method->interface = (*iface)->name;
            method->info = *m;
            method->signature = g_string_free (signature, FALSE);
            g_ptr_array_add (methods, method);
          }
    }

  g_assert_cmpuint (methods->len, >, 0);
}

/* Wire format */

static void
pad (GByteArray *buf,
     guint alignment)
{
  static const guint8 zeros[8] = { 0 };

  g_byte_array_append (buf, zeros, (alignment - buf->len % alignment) % alignment);
}

static void
append_u32 (GByteArray *buf,
            guint32 value)
{
  guint32 le = GUINT32_TO_LE (value);

  pad (buf, 4);
  g_byte_array_append (buf, (const guint8 *) &le, 4);
}

/* A header field (a struct of a byte and a variant): @type is 's', 'o'
 * or 'g'. */
static void
append_field (GByteArray *buf,
              guint8 code,
              char type,
              const char *value,
              gsize len)
{
  const guint8 head[4] = { code, 1, (guint8) type, 0 };

  pad (buf, 8);
  g_byte_array_append (buf, head, sizeof head);
  if (type == 'g')
    {
      guint8 len8 = (guint8) len;

      g_byte_array_append (buf, &len8, 1);
    }
  else
    {
      append_u32 (buf, (guint32) len);
    }
  g_byte_array_append (buf, (const guint8 *) value, len);
  g_byte_array_append (buf, (const guint8 *) "", 1);
}

static DBusMessage *
build_call (const char *interface,
            const char *member,
            const char *signature,
            gsize signature_len,
            const guint8 *body,
            gsize body_len)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  const guint8 fixed[4] = { 'l', DBUS_MESSAGE_TYPE_METHOD_CALL, 0, 1 };
  guint32 fields_len;
  DBusMessage *message;
  DBusError error;

  g_byte_array_append (buf, fixed, sizeof fixed);
  append_u32 (buf, (guint32) body_len);
  append_u32 (buf, 1);    /* serial */
  append_u32 (buf, 0);    /* header fields' length, below */

  append_field (buf, DBUS_HEADER_FIELD_PATH, 'o', OBJECT_PATH, strlen (OBJECT_PATH));
  append_field (buf, DBUS_HEADER_FIELD_INTERFACE, 's', interface, strlen (interface));
  append_field (buf, DBUS_HEADER_FIELD_MEMBER, 's', member, strlen (member));
  if (signature_len > 0)
    append_field (buf, DBUS_HEADER_FIELD_SIGNATURE, 'g', signature, signature_len);

  fields_len = GUINT32_TO_LE (buf->len - 16);
  memcpy (buf->data + 12, &fields_len, 4);
  pad (buf, 8);
  g_byte_array_append (buf, body, body_len);

  dbus_error_init (&error);
  message = dbus_message_demarshal ((const char *) buf->data, buf->len, &error);
  dbus_error_free (&error);
  return message;
}

/* The Manager */

static const Method *
find_method (DBusMessage *message)
{
  const char *interface = dbus_message_get_interface (message);
  const char *member = dbus_message_get_member (message);

  for (guint i = 0; i < methods->len; i++)
    {
      const Method *method = methods->pdata[i];

      if ((interface == NULL || strcmp (interface, method->interface) == 0)
          && strcmp (member, method->info->name) == 0)
        return method;
    }

  return NULL;
}

static void
check_address (const char *raw)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = ms_address_normalize (raw, &error);
  g_autofree char *again = NULL;
  g_autofree char *local = NULL;

  if (address == NULL)
    {
      g_assert_nonnull (error);
      return;
    }

  /* Normal forms stay as they are. */
  again = ms_address_normalize (address, NULL);
  g_assert_cmpstr (again, ==, address);
  g_assert_cmpuint (strlen (address), <=, MS_ADDRESS_MAX_LENGTH);
  local = ms_address_dup_local_part (address);
  g_assert_cmpuint (strlen (local) + 1 + strlen (ms_address_get_domain (address)), ==,
                    strlen (address));
}

/* What the Manager's methods do with their arguments before any network
 * step, by argument name so that the XML stays the one source. */
static void
check_arguments (const Method *method,
                 GVariant *parameters)
{
  g_auto(MsCallOptions) options = { 0 };
  g_autofree char *address = NULL;
  g_autofree char *password = NULL;
  g_autoptr(GVariant) dict = NULL;
  guint i = 0;

  for (GDBusArgInfo **arg = method->info->in_args; arg && *arg; arg++, i++)
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (parameters, i);
      gboolean is_string = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING);

      if (!is_string && !g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
        continue;
      if (is_string && strcmp ((*arg)->name, "address") == 0)
        address = g_variant_dup_string (value, NULL);
      else if (is_string && strcmp ((*arg)->name, "password") == 0)
        password = g_variant_dup_string (value, NULL);
      else if (!is_string && strcmp ((*arg)->name, "options") == 0)
        dict = g_variant_ref (value);
    }

  if (password != NULL && !ms_password_check (password, NULL))
    return;
  if (password != NULL)
    g_assert_cmpuint (strlen (password), <=, MS_PASSWORD_MAX_LENGTH);

  if (dict != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!ms_call_options_parse (dict, &options, &error))
        {
          g_assert_nonnull (error);
          return;
        }
      g_assert_nonnull (options.operation_id);
      g_assert_cmpuint (options.timeout_ms, >, 0);
      if (options.password != NULL)
        g_assert_true (ms_password_check (options.password, NULL));
      if (options.login != NULL)
        check_address (options.login);
    }

  if (address != NULL)
    check_address (address);
}

static void
check_message (DBusMessage *message)
{
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tuple_type = NULL;
  const Method *method;

  body = bus_message_get_body (message, &error);
  if (body == NULL)
    {
      g_assert_nonnull (error);
      return;
    }

  /* The GVariant has exactly the message's signature... */
  tuple_type = g_strdup_printf ("(%s)", dbus_message_get_signature (message));
  g_assert_cmpstr (g_variant_get_type_string (body), ==, tuple_type);

  /* ... and goes back onto the wire unchanged (replies are built so). */
  {
    DBusMessage *copy = dbus_message_new_method_return (message);
    g_autoptr(GVariant) again = NULL;

    g_assert_nonnull (copy);
    g_assert_true (bus_message_append_body (copy, body));
    g_assert_cmpstr (dbus_message_get_signature (copy), ==,
                     dbus_message_get_signature (message));
    again = bus_message_get_body (copy, &error);
    g_assert_no_error (error);
    g_assert_true (g_variant_equal (again, body));
    dbus_message_unref (copy);
  }

  if (dbus_message_get_type (message) != DBUS_MESSAGE_TYPE_METHOD_CALL)
    return;
  method = find_method (message);
  /* The bus layer answers these itself (UnknownMethod, InvalidArgs). */
  if (method == NULL
      || strcmp (dbus_message_get_signature (message), method->signature) != 0)
    return;

  check_arguments (method, body);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  DBusMessage *message = NULL;

  fuzz_setup ();
  if (methods == NULL)
    load_methods ();

  if (size == 0)
    return 0;

  if (data[0] == '>')
    {
      const char *member = (const char *) data + 1;
      const char *member_end = memchr (member, '\0', size - 1);
      const char *signature, *signature_end;
      const char *interface = MANAGER_INTERFACE;
      gsize body_offset;

      if (member_end == NULL)
        return 0;
      signature = member_end + 1;
      signature_end = memchr (signature, '\0', (const char *) data + size - signature);
      if (signature_end == NULL || signature_end - signature > 255)
        return 0;
      body_offset = signature_end + 1 - (const char *) data;

      for (guint i = 0; i < methods->len; i++)
        {
          const Method *method = methods->pdata[i];

          if (strcmp (method->info->name, member) == 0)
            interface = method->interface;
        }
      message = build_call (interface, member, signature, signature_end - signature,
                            data + body_offset, size - body_offset);
    }
  else
    {
      DBusError error;

      dbus_error_init (&error);
      message = dbus_message_demarshal ((const char *) data, size, &error);
      dbus_error_free (&error);
    }

  if (message == NULL)
    return 0;

  check_message (message);
  dbus_message_unref (message);
  return 0;
}
