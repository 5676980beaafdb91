//! Which controllers the manager runs: upstream's `--controllers` flag.
//!
//! The flag is a comma list: `*` turns on every controller that is on by
//! default, `foo` turns on `foo`, `-foo` turns it off. As upstream's
//! `IsControllerEnabled` decides, the first entry naming a controller
//! (with or without `-`) settles it whatever `*` says, and a list without
//! `*` runs only the controllers it names; the flag's default is `*`.
//! Names are upstream's canonical ones (`cmd/kube-controller-manager/names`)
//! or their older aliases, which are read as the canonical name; any other
//! name is refused, as upstream's validation refuses it.

use std::collections::BTreeMap;

/// One built-in controller: its canonical name, the older names upstream
/// still accepts for it, and whether `*` turns it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub on_by_default: bool,
}

/// The `default` ServiceAccount of every namespace.
pub const SERVICE_ACCOUNT: &str = "serviceaccount-controller";
/// The `kube-root-ca.crt` ConfigMap of every namespace.
pub const ROOT_CA_PUBLISHER: &str = "root-ca-certificate-publisher-controller";
/// ReplicaSets' pods.
pub const REPLICA_SET: &str = "replicaset-controller";
/// ReplicationControllers' pods.
pub const REPLICATION_CONTROLLER: &str = "replicationcontroller-controller";
/// Deployments' ReplicaSets.
pub const DEPLOYMENT: &str = "deployment-controller";
/// Dependents of deleted owners.
pub const GARBAGE_COLLECTOR: &str = "garbage-collector-controller";
/// The contents of deleted namespaces.
pub const NAMESPACE: &str = "namespace-controller";
/// Approved CertificateSigningRequests signed with the cluster CA.
pub const CSR_SIGNING: &str = "certificatesigningrequest-signing-controller";
/// Old CertificateSigningRequests removed.
pub const CSR_CLEANER: &str = "certificatesigningrequest-cleaner-controller";

/// The controllers keelson knows, under upstream's names and aliases
/// (upstream's `NewControllerDescriptors`).
pub const KNOWN: &[Known] = &[
    known(SERVICE_ACCOUNT, &["serviceaccount"]),
    known(ROOT_CA_PUBLISHER, &["root-ca-cert-publisher"]),
    known(REPLICA_SET, &["replicaset"]),
    known(REPLICATION_CONTROLLER, &["replicationcontroller"]),
    known(DEPLOYMENT, &["deployment"]),
    known(GARBAGE_COLLECTOR, &["garbagecollector"]),
    known(NAMESPACE, &["namespace"]),
    known(CSR_SIGNING, &["csrsigning"]),
    known(CSR_CLEANER, &["csrcleaner"]),
];

const fn known(name: &'static str, aliases: &'static [&'static str]) -> Known {
    Known {
        name,
        aliases,
        on_by_default: true,
    }
}

/// A `--controllers` list that named a controller keelson does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not in the list of known controllers: {}", known_names())]
pub struct SelectionError {
    pub name: String,
}

fn known_names() -> String {
    let names: Vec<&str> = KNOWN.iter().map(|known| known.name).collect();
    names.join(", ")
}

/// The controllers to run, as a `--controllers` list decides them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Whether the list holds `*`.
    star: bool,
    /// Each canonical name the list mentions: true for `foo`, false for
    /// `-foo`; the first mention wins.
    explicit: BTreeMap<&'static str, bool>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection::all()
    }
}

impl Selection {
    /// Every controller that is on by default: the flag's default, `*`.
    pub fn all() -> Selection {
        Selection {
            star: true,
            explicit: BTreeMap::new(),
        }
    }

    /// Reads a `--controllers` list (`*,-replicaset-controller`); empty
    /// entries are skipped, so an empty list runs nothing.
    pub fn parse(list: &str) -> Result<Selection, SelectionError> {
        let mut selection = Selection {
            star: false,
            explicit: BTreeMap::new(),
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                selection.star = true;
                continue;
            }
            let (name, on) = match entry.strip_prefix('-') {
                Some(name) => (name, false),
                None => (entry, true),
            };
            let canonical = canonical(name).ok_or_else(|| SelectionError {
                name: name.to_string(),
            })?;
            selection.explicit.entry(canonical).or_insert(on);
        }
        Ok(selection)
    }

    /// Whether the controller of this canonical name runs.
    pub fn enabled(&self, name: &str) -> bool {
        if let Some(on) = self.explicit.get(name) {
            return *on;
        }
        self.star && KNOWN.iter().any(|k| k.name == name && k.on_by_default)
    }

    /// Whether any known controller runs.
    pub fn any(&self) -> bool {
        KNOWN.iter().any(|known| self.enabled(known.name))
    }
}

impl std::str::FromStr for Selection {
    type Err = SelectionError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Selection::parse(list)
    }
}

/// The canonical name of a known controller's name or alias.
pub fn canonical(name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|known| known.name == name || known.aliases.contains(&name))
        .map(|known| known.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_turns_controllers_on_and_off_as_upstream_does() {
        let rs = REPLICA_SET;
        let sa = SERVICE_ACCOUNT;
        let cases: &[(&str, &[(&str, bool)])] = &[
            ("*", &[(rs, true), (sa, true)]),
            ("*,-replicaset-controller", &[(rs, false), (sa, true)]),
            ("-replicaset-controller,*", &[(rs, false), (sa, true)]),
            ("*,-replicaset", &[(rs, false), (sa, true)]),
            ("replicaset-controller", &[(rs, true), (sa, false)]),
            ("serviceaccount", &[(rs, false), (sa, true)]),
            ("-serviceaccount-controller", &[(rs, false), (sa, false)]),
            // The first mention settles it, as upstream's loop returns.
            ("replicaset,-replicaset", &[(rs, true)]),
            ("-replicaset,replicaset-controller", &[(rs, false)]),
            ("", &[(rs, false), (sa, false)]),
            (" * , -csrsigning ", &[(CSR_SIGNING, false), (sa, true)]),
        ];
        for (list, expected) in cases {
            let selection = Selection::parse(list).expect("a valid list");
            for (name, on) in *expected {
                assert_eq!(selection.enabled(name), *on, "{list:?}: {name}");
            }
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_known_ones() {
        let cases = [
            ("*,-nodes", "nodes"),
            ("replicasets", "replicasets"),
            ("*,--replicaset", "-replicaset"),
            ("-", ""),
        ];
        for (list, name) in cases {
            let err = Selection::parse(list).expect_err(list);
            assert_eq!(err.name, name, "{list:?}");
            let message = err.to_string();
            assert!(message.contains("not in the list of known controllers"));
            assert!(message.contains(REPLICA_SET), "{message}");
        }
    }

    #[test]
    fn every_alias_reads_as_its_canonical_name() {
        let cases = [
            ("serviceaccount", SERVICE_ACCOUNT),
            ("root-ca-cert-publisher", ROOT_CA_PUBLISHER),
            ("replicaset", REPLICA_SET),
            ("replicationcontroller", REPLICATION_CONTROLLER),
            ("deployment", DEPLOYMENT),
            ("garbagecollector", GARBAGE_COLLECTOR),
            ("namespace", NAMESPACE),
            ("csrsigning", CSR_SIGNING),
            ("csrcleaner", CSR_CLEANER),
            ("deployment-controller", DEPLOYMENT),
        ];
        for (name, expected) in cases {
            assert_eq!(canonical(name), Some(expected), "{name}");
        }
        assert_eq!(Selection::default(), Selection::all());
        assert!(Selection::all().any());
        assert!(!Selection::parse("").expect("empty").any());
    }
}
