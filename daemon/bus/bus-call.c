/* bus-call.c: a method call waiting for its reply, and the caller that
 * may leave before it comes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-private.h"
#include "bus-variant.h"

struct _BusCall {
  BusService *service;
  DBusMessage *message;
  char *path;
  GCancellable *cancellable;
  gboolean watched;   /* in service->pending_calls, its caller watched */
};

/* Only owner changes of the callers we wait on reach us: one match rule
 * per caller with calls in progress, dropped with its last call. */
static char *
sender_match_rule (const char *sender)
{
  return g_strdup_printf ("type='signal',sender='" DBUS_SERVICE_DBUS "',"
                          "path='" DBUS_PATH_DBUS "',"
                          "interface='" DBUS_INTERFACE_DBUS "',"
                          "member='NameOwnerChanged',arg0='%s'", sender);
}

typedef struct {
  BusService *service;
  char *sender;
} SenderCheck;

static void
sender_check_free (void *data)
{
  SenderCheck *check = data;

  g_free (check->sender);
  g_free (check);
}

static void
on_name_has_owner (DBusPendingCall *pending,
                   void *user_data)
{
  SenderCheck *check = user_data;
  DBusMessage *reply = dbus_pending_call_steal_reply (pending);
  dbus_bool_t has_owner = TRUE;

  if (dbus_message_get_type (reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN)
    dbus_message_get_args (reply, NULL, DBUS_TYPE_BOOLEAN, &has_owner, DBUS_TYPE_INVALID);
  dbus_message_unref (reply);

  if (!has_owner)
    bus_call_cancel_sender (check->service, check->sender);
}

static void
check_sender_still_there (BusService *service,
                          const char *sender)
{
  DBusMessage *call = dbus_message_new_method_call (DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                    DBUS_INTERFACE_DBUS, "NameHasOwner");
  DBusPendingCall *pending = NULL;
  SenderCheck *check = g_new0 (SenderCheck, 1);

  check->service = service;
  check->sender = g_strdup (sender);

  if (call == NULL ||
      !dbus_message_append_args (call, DBUS_TYPE_STRING, &sender, DBUS_TYPE_INVALID) ||
      !dbus_connection_send_with_reply (service->connection, call, &pending,
                                        DBUS_TIMEOUT_USE_DEFAULT) ||
      pending == NULL ||
      !dbus_pending_call_set_notify (pending, on_name_has_owner, check, sender_check_free))
    g_error ("Out of memory or no bus connection");

  dbus_pending_call_unref (pending);
  dbus_message_unref (call);
}

BusCall *
bus_call_new (BusObject *object,
              DBusMessage *message)
{
  BusCall *call = g_new0 (BusCall, 1);

  call->service = object->service;
  call->message = dbus_message_ref (message);
  call->path = g_strdup (object->path);
  call->cancellable = g_cancellable_new ();

  return call;
}

/* For a call still unanswered when its handler returned.  Most calls are
 * answered at once: they never cost the match rule, the NameHasOwner
 * check and the rule's removal (three messages to the bus). */
void
bus_call_watch_caller (BusCall *call)
{
  BusService *service = call->service;
  const char *sender = dbus_message_get_sender (call->message);
  GPtrArray *calls;

  /* A peer-to-peer connection has no sender and no bus to leave. */
  if (sender == NULL)
    return;

  calls = g_hash_table_lookup (service->pending_calls, sender);
  if (calls == NULL)
    {
      g_autofree char *rule = sender_match_rule (sender);

      calls = g_ptr_array_new ();
      g_hash_table_insert (service->pending_calls, g_strdup (sender), calls);
      /* No error argument: the rule is sent without waiting for the bus. */
      dbus_bus_add_match (service->connection, rule, NULL);
      /* The caller may have left before we got to its call, and then no
       * NameOwnerChanged will come: ask the bus, after the match is in. */
      check_sender_still_there (service, sender);
    }
  g_ptr_array_add (calls, call);
  call->watched = TRUE;
}

static void
bus_call_free (BusCall *call)
{
  const char *sender = dbus_message_get_sender (call->message);
  GPtrArray *calls = sender && call->watched
                     ? g_hash_table_lookup (call->service->pending_calls, sender) : NULL;

  if (call->service->dispatching == call)
    call->service->dispatching = NULL;

  if (calls != NULL)
    {
      g_ptr_array_remove_fast (calls, call);
      if (calls->len == 0)
        {
          g_autofree char *rule = sender_match_rule (sender);

          dbus_bus_remove_match (call->service->connection, rule, NULL);
          g_hash_table_remove (call->service->pending_calls, sender);
        }
    }

  dbus_message_unref (call->message);
  g_object_unref (call->cancellable);
  g_free (call->path);
  g_free (call);
}

void
bus_call_cancel_sender (BusService *service,
                        const char *sender)
{
  GPtrArray *calls = g_hash_table_lookup (service->pending_calls, sender);

  if (calls == NULL)
    return;

  /* Cancelling may finish calls, which edits the array: work on a copy. */
  g_autoptr(GPtrArray) copy = g_ptr_array_copy (calls, NULL, NULL);
  for (guint i = 0; i < copy->len; i++)
    {
      BusCall *call = copy->pdata[i];

      g_debug ("%s left the bus: cancelling its %s call",
               sender, dbus_message_get_member (call->message));
      g_cancellable_cancel (call->cancellable);
    }
}

const char *
bus_call_get_sender (BusCall *call)
{
  return dbus_message_get_sender (call->message);
}

const char *
bus_call_get_member (BusCall *call)
{
  return dbus_message_get_member (call->message);
}

BusObject *
bus_call_get_object (BusCall *call)
{
  return g_hash_table_lookup (call->service->objects, call->path);
}

GCancellable *
bus_call_get_cancellable (BusCall *call)
{
  return call->cancellable;
}

static gboolean
caller_is_gone (BusCall *call)
{
  return g_cancellable_is_cancelled (call->cancellable) ||
         dbus_message_get_no_reply (call->message);
}

void
bus_call_return (BusCall *call,
                 GVariant *result)
{
  g_autoptr(GVariant) owned = result ? g_variant_ref_sink (result) : NULL;

  bus_properties_flush (call->service);

  if (!caller_is_gone (call))
    {
      DBusMessage *reply = dbus_message_new_method_return (call->message);

      if (reply == NULL ||
          (owned != NULL && !bus_message_append_body (reply, owned)))
        g_error ("Out of memory");
      bus_service_send (call->service, reply);
    }

  bus_call_free (call);
}

void
bus_service_send_error (BusService *service,
                        DBusMessage *message,
                        const GError *error)
{
  g_autofree char *name = NULL;
  DBusMessage *reply;

  if (dbus_message_get_no_reply (message))
    return;

  /* GIO knows the D-Bus names of G_DBUS_ERROR and of every domain
   * registered with it; anything else is a plain failure. */
  name = g_dbus_error_encode_gerror (error);
  if (g_str_has_prefix (name, "org.gtk.GDBus.UnmappedGError"))
    {
      g_free (name);
      name = g_strdup (DBUS_ERROR_FAILED);
    }

  reply = dbus_message_new_error (message, name, error->message);
  if (reply == NULL)
    g_error ("Out of memory");
  bus_service_send (service, reply);
}

void
bus_call_return_error (BusCall *call,
                       const GError *error)
{
  bus_properties_flush (call->service);

  if (!g_cancellable_is_cancelled (call->cancellable))
    bus_service_send_error (call->service, call->message, error);

  bus_call_free (call);
}

void
bus_call_return_new_error (BusCall *call,
                           GQuark domain,
                           int code,
                           const char *format,
                           ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  bus_call_return_error (call, error);
}
