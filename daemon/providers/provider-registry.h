/* provider-registry.h: finding the provider for a domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "provider.h"

G_BEGIN_DECLS

typedef struct _MsProviderRegistry MsProviderRegistry;

/* @dirs: NULL-terminated, highest priority first.  Every "*.xml" file in
 * each folder is read (in name order) the first time a lookup needs it; a
 * domain defined in a higher-priority folder overrides the same domain in a
 * lower one, and within one folder the first file in name order wins.
 * Precedence is per domain: overriding icloud.com leaves me.com to the
 * shipped file.  Folders that do not exist are skipped silently.  A file
 * that fails to parse is skipped with a g_warning naming the file and
 * line; the other files still load.
 * Returns: (transfer full) */
MsProviderRegistry *ms_provider_registry_new (const char * const *dirs);

/* The XDG search order of DESIGN §2:
 *   $XDG_CONFIG_HOME/mailsetup/providers,
 *   each of $XDG_CONFIG_DIRS/mailsetup/providers,
 *   $XDG_DATA_HOME/mailsetup/providers,
 *   $MAILSETUP_DATADIR/providers if that variable is set (running from the
 *   build tree), else the installed <datadir>/mailsetup/providers.
 * Returns: (transfer full) */
MsProviderRegistry *ms_provider_registry_new_default (void);

void ms_provider_registry_free (MsProviderRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsProviderRegistry, ms_provider_registry_free)

/* @domain: lower-case.
 * Returns: (transfer none) (nullable): the provider for @domain. */
MsProvider *ms_provider_registry_lookup (MsProviderRegistry *registry,
                                         const char *domain);

/* The provider whose mail servers @mx_host belongs to (an MX host of a
 * custom domain), by the providers' mxDomain entries.
 * Returns: (transfer none) (nullable) */
MsProvider *ms_provider_registry_lookup_mx (MsProviderRegistry *registry,
                                            const char *mx_host);

/* The folders searched, highest priority first (transfer none). */
const char * const *ms_provider_registry_get_dirs (MsProviderRegistry *registry);

G_END_DECLS
