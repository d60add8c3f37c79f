/* manager.h: the org.mailsetup.MailSetup1.Manager object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "accounts/accounts.h"
#include "bus/bus-service.h"
#include "providers/provider-registry.h"

G_BEGIN_DECLS

#define MS_BUS_NAME "org.mailsetup.MailSetup1"
#define MS_MANAGER_PATH "/org/mailsetup/MailSetup1"

typedef struct _MsManager MsManager;

/* Exports the manager at MS_MANAGER_PATH on @service.  @registry and
 * @accounts are borrowed and must outlive the manager.
 * Returns: (transfer full) */
MsManager *ms_manager_new (BusService *service,
                           MsProviderRegistry *registry,
                           MsAccounts *accounts);
void ms_manager_free (MsManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsManager, ms_manager_free)

G_END_DECLS
