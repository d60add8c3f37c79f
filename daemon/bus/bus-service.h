/* bus-service.h: serving objects on a libdbus connection from static tables
 *
 * An interface is described twice, on purpose: its XML in dbus-interfaces/
 * says what is on the bus (names, signatures, access), and a static
 * BusInterfaceVTable says which C function serves each member.  The two
 * are checked against each other when an object is exported, so the
 * introspection data can never promise a member that is not there.
 *
 * Introspectable, Properties, ObjectManager and argument checking are
 * done here; Peer is answered by libdbus itself.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <dbus/dbus.h>
#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _BusService BusService;
typedef struct _BusObject BusObject;
typedef struct _BusCall BusCall;

/* Handles one method call.  @parameters is the checked argument tuple
 * (transfer none).  The handler must finish @call, now or later, with
 * bus_call_return() or bus_call_return_error(). */
typedef void (*BusMethodFunc) (BusCall *call,
                               GVariant *parameters,
                               gpointer user_data);

/* Returns: (transfer floating or full): the property's current value. */
typedef GVariant *(*BusPropertyGetFunc) (gpointer user_data);

/* @value has the property's type (checked before the call). */
typedef gboolean (*BusPropertySetFunc) (GVariant *value,
                                        gpointer user_data,
                                        GError **error);

typedef struct {
  const char *name;
  BusMethodFunc handler;
} BusMethod;

typedef struct {
  const char *name;
  BusPropertyGetFunc get;
  BusPropertySetFunc set; /* NULL for read-only properties */
} BusProperty;

typedef struct {
  const char *name;
  const BusMethod *methods;       /* ends with an empty entry; may be NULL */
  const BusProperty *properties;  /* ends with an empty entry; may be NULL */
} BusInterfaceVTable;

/* Serves objects on @connection, which must already be attached to a main
 * context (bus_mainloop_attach()).  @resource_path is a GResource folder
 * holding one introspection XML file per interface.
 * Returns: (transfer full): the service, or NULL if the XML is unreadable. */
BusService *bus_service_new (DBusConnection *connection,
                             const char *resource_path,
                             GError **error);
void bus_service_free (BusService *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusService, bus_service_free)

/* (transfer none) */
DBusConnection *bus_service_get_connection (BusService *service);

/* From now on, method calls from connections of another Unix user than
 * @uid are answered with @denial.  The bus driver tells each caller's
 * user once; calls wait for that answer in order. */
void bus_service_restrict_to_user (BusService *service,
                                   uid_t uid,
                                   const GError *denial);

typedef enum {
  BUS_EXPORT_NONE = 0,
  /* The object also implements org.freedesktop.DBus.ObjectManager for
   * the objects below it. */
  BUS_EXPORT_OBJECT_MANAGER = 1 << 0,
  /* No InterfacesAdded: for objects exported before any caller can have
   * asked, which GetManagedObjects is the way to learn of. */
  BUS_EXPORT_UNANNOUNCED = 1 << 1,
} BusExportFlags;

/* Exports an object at @path with the interfaces of the NULL-terminated
 * @vtables, all served with @user_data.  An object exported below an
 * object manager is announced with InterfacesAdded unless @flags say
 * otherwise.
 * Returns: (transfer none): the object, owned by @service. */
BusObject *bus_service_export (BusService *service,
                               const char *path,
                               const BusInterfaceVTable * const *vtables,
                               BusExportFlags flags,
                               gpointer user_data);

/* Withdraws @object (InterfacesRemoved below an object manager) and
 * frees it. */
void bus_object_unexport (BusObject *object);

/* (transfer none) */
const char *bus_object_get_path (BusObject *object);

/* Queues a PropertiesChanged for @property of @interface.  Changes are
 * sent in one signal per object and interface, at the end of the current
 * main-loop iteration or before the next method reply, whichever is first. */
void bus_object_notify (BusObject *object,
                        const char *interface,
                        const char *property);

/* Emits @signal of @interface from @object.  @parameters must match the
 * signal's arguments in the XML (a tuple, floating or not). */
void bus_object_emit_signal (BusObject *object,
                             const char *interface,
                             const char *signal,
                             GVariant *parameters);

/* Escapes @text into one object path element the way sd_bus_path_encode()
 * does: bytes outside [A-Za-z0-9], and a leading digit, become "_xx";
 * empty text is "_".
 * Returns: (transfer full) */
char *bus_path_escape (const char *text);

/* The method call in progress. */

/* (transfer none) */
const char *bus_call_get_sender (BusCall *call);
/* (transfer none) */
const char *bus_call_get_member (BusCall *call);
/* (transfer none) */
BusObject *bus_call_get_object (BusCall *call);

/* Cancelled when the caller leaves the bus before the reply is sent.
 * (transfer none) */
GCancellable *bus_call_get_cancellable (BusCall *call);

/* Sends the reply (@result is a tuple, may be floating; NULL means no
 * return values) and frees @call.  Pending property changes are flushed
 * first, so a caller that reads the reply sees them already. */
void bus_call_return (BusCall *call,
                      GVariant *result);

/* Sends @error as a named D-Bus error and frees @call.  Errors of domains
 * registered with g_dbus_error_register_error_domain() keep their names;
 * others become org.freedesktop.DBus.Error.Failed. */
void bus_call_return_error (BusCall *call,
                            const GError *error);

void bus_call_return_new_error (BusCall *call,
                                GQuark domain,
                                int code,
                                const char *format,
                                ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
