/* bus-private.h: what the files of the bus layer share with each other
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "bus-service.h"

#include <sys/types.h>

G_BEGIN_DECLS

#define BUS_INTERFACE_INTROSPECTABLE "org.freedesktop.DBus.Introspectable"
#define BUS_INTERFACE_PROPERTIES "org.freedesktop.DBus.Properties"
#define BUS_INTERFACE_OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define BUS_INTERFACE_PEER "org.freedesktop.DBus.Peer"

typedef struct {
  const BusInterfaceVTable *vtable;
  GDBusInterfaceInfo *info; /* owned by the service's introspection data */
} BusInterface;

struct _BusObject {
  BusService *service;
  char *path;
  gpointer user_data;
  GArray *interfaces;          /* of BusInterface, in export order */
  gboolean object_manager;
  GHashTable *changed;         /* interface name → GPtrArray of property names */
};

struct _BusService {
  DBusConnection *connection;
  GHashTable *interface_info;  /* name → GDBusInterfaceInfo, from the XML */
  GHashTable *objects;         /* path → BusObject */
  GHashTable *pending_calls;   /* sender → GPtrArray of BusCall */
  BusCall *dispatching;        /* the call whose handler runs now */
  GPtrArray *changed_objects;  /* BusObjects with queued property changes */
  GSource *flush_source;

  /* Only callers of this Unix user are served (see bus_service_restrict_to_user). */
  gboolean restricted;
  uid_t allowed_uid;
  GError *denial;
  GHashTable *caller_uids;     /* sender → uid + 1, as learned from the bus */
  GHashTable *waiting;         /* sender → GQueue of DBusMessage, until its uid is known */
};

/* bus-introspect.c */
gboolean bus_introspect_load (BusService *service,
                              const char *resource_path,
                              GError **error);
GDBusInterfaceInfo *bus_introspect_lookup (BusService *service,
                                           const char *interface);
void bus_introspect_check_vtable (const BusInterfaceVTable *vtable,
                                  GDBusInterfaceInfo *info);
char *bus_introspect_signature (GDBusArgInfo **args);
char *bus_introspect_xml (BusService *service,
                          const char *path);

/* bus-properties.c */
DBusHandlerResult bus_properties_handle (BusObject *object,
                                         DBusMessage *message);
GVariant *bus_properties_get_all (BusObject *object,
                                  const BusInterface *interface);
void bus_properties_flush (BusService *service);
void bus_properties_forget (BusObject *object);

/* bus-call.c */
void bus_call_watch_caller (BusCall *call);
BusCall *bus_call_new (BusObject *object,
                       DBusMessage *message);
void bus_call_cancel_sender (BusService *service,
                             const char *sender);
void bus_service_send_error (BusService *service,
                             DBusMessage *message,
                             const GError *error);

/* bus-service.c */
const BusInterface *bus_object_find_interface (BusObject *object,
                                               const char *name);
void bus_service_send (BusService *service,
                       DBusMessage *message);

G_END_DECLS
