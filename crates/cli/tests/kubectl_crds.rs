//! CustomResourceDefinitions through the real kubectl against `keelson
//! up`: a definition and an instance applied from one file, `get` with the
//! definition's printer columns, short names and categories, `explain`
//! from the published schema, unknown fields refused by kubectl's default
//! strict validation, a CEL rule refusing an update, and the definition's
//! deletion taking its objects.

mod support;

use support::{Server, header, row};

const MANIFEST: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: The schedule and image of a cron tab.
            x-kubernetes-validations:
            - rule: self.replicas <= 10
              message: at most 10 replicas
            properties:
              cronSpec:
                type: string
                description: When to run, in cron syntax.
              image:
                type: string
              replicas:
                type: integer
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: '@hourly'
  image: my-cron-image
  replicas: 2
";

#[test]
fn a_definition_and_its_objects_through_kubectl() {
    let server = Server::start();
    let file = server.manifest("crontab.yaml", MANIFEST);
    // One file: as against upstream, kubectl may look for the new kind
    // before its definition is established and fail on the instance; an
    // apply again, once it is served, creates it.
    let mut applied = server.kubectl(&["apply", "-f", &file]);
    for _ in 0..20 {
        if applied.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        applied = server.kubectl(&["apply", "-f", &file]);
    }
    assert!(applied.status.success(), "{applied}");
    assert!(
        applied
            .stdout
            .contains("crontab.stable.example.com/nightly"),
        "{applied}"
    );

    let table = server.ok(&["get", "crontabs"]);
    assert_eq!(header(&table), ["NAME", "SPEC", "REPLICAS"], "{table}");
    assert_eq!(
        &row(&table, "nightly")[..3],
        ["nightly", "@hourly", "2"],
        "{table}"
    );
    server.prints(
        &["get", "ct", "-o", "name"],
        "crontab.stable.example.com/nightly",
    );
    let all = server.ok(&["get", "all", "-o", "name"]);
    assert!(all.contains("crontab.stable.example.com/nightly"), "{all}");

    let resources = server.ok(&[
        "api-resources",
        "--api-group=stable.example.com",
        "-o",
        "name",
    ]);
    assert_eq!(
        resources.trim(),
        "crontabs.stable.example.com",
        "{resources}"
    );
    let explained = server.ok(&["explain", "crontab.spec.cronSpec"]);
    assert!(
        explained.contains("When to run, in cron syntax."),
        "{explained}"
    );

    // kubectl validates strictly by default: an unknown field is refused.
    let typo = server.manifest(
        "typo.yaml",
        "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: typo\nspec:\n  cronSpek: x\n",
    );
    let refused = server.kubectl(&["apply", "-f", &typo]);
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stderr.contains("unknown field \"spec.cronSpek\""),
        "{refused}"
    );

    // A validation rule refuses an update.
    let refused = server.kubectl(&[
        "patch",
        "crontab",
        "nightly",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":11}}"#,
    ]);
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused
            .stderr
            .contains("spec: Invalid value: at most 10 replicas"),
        "{refused}"
    );
    server.prints(
        &[
            "get",
            "crontab",
            "nightly",
            "-o",
            "jsonpath={.spec.replicas}",
        ],
        "2",
    );

    server.ok(&["delete", "crd", "crontabs.stable.example.com"]);
    let gone = server.kubectl(&["get", "crontabs"]);
    assert!(!gone.status.success(), "{gone}");
}
