//! The printers of server-side tables: for each kind, the columns and cell
//! texts of upstream's printers (`pkg/printers/internalversion`), as pure
//! functions from an object (and the time, for ages) to its row. A kind's
//! strategy names its [`Printer`]; the API server builds the `Table` that
//! `kubectl get` asks for from it.

pub(crate) mod autoscaling;
pub(crate) mod certificates;
pub(crate) mod core;
pub(crate) mod format;
pub(crate) mod network;
pub(crate) mod networking;
pub(crate) mod pod;
pub(crate) mod policy;
pub(crate) mod rbac;
pub(crate) mod replication;
pub(crate) mod storage;
pub(crate) mod workloads;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use format::{human_duration, since};

/// One column of a table (`TableColumnDefinition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header (`Name`, `Ready`, `Up-to-date`); kubectl upper-cases it.
    pub name: &'static str,
    /// The OpenAPI type of the cells (`string`, `integer`, `boolean`, `date`).
    pub type_: &'static str,
    /// The OpenAPI format (`name` for the name column).
    pub format: &'static str,
    /// What the column shows.
    pub description: &'static str,
    /// 0: shown by default; 1: shown by `-o wide`.
    pub priority: u8,
}

impl Column {
    /// The column as a `TableColumnDefinition`.
    pub fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A column shown by default.
pub(crate) const fn col(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown by `-o wide` only.
pub(crate) const fn wide(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
) -> Column {
    Column {
        priority: 1,
        ..col(name, type_, description)
    }
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The name column every printer starts with.
pub const NAME: Column = Column {
    format: "name",
    ..col("Name", "string", NAME_DESCRIPTION)
};
/// The age column.
pub(crate) const AGE: Column = col("Age", "string", CREATION_DESCRIPTION);
/// The wide container names column of workloads.
pub(crate) const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
/// The wide images column of workloads.
pub(crate) const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

/// Upstream's default table for resources without a printer: the name and
/// the creation time.
pub const DEFAULT_COLUMNS: &[Column] = &[NAME, col("Created At", "date", CREATION_DESCRIPTION)];

/// The cells of one row, and its conditions (`Completed` for finished
/// pods).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub cells: Vec<Value>,
    pub conditions: Option<Value>,
}

impl Row {
    pub fn new(cells: Vec<Value>) -> Self {
        Self {
            cells,
            conditions: None,
        }
    }
}

/// How one kind prints: its columns and a function from an object to its
/// row (`None` when the object does not have the kind's shape).
pub struct Printer {
    pub columns: &'static [Column],
    row: RowOf,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// How a printer makes a row: a kind's function, or one made at run time
/// (a custom resource's columns).
enum RowOf {
    Kind(fn(&Value, Timestamp) -> Option<Row>),
    Made(RowFn),
}

/// A row function made at run time.
pub type RowFn = Box<dyn Fn(&Value, Timestamp) -> Option<Row> + Send + Sync>;

impl Printer {
    pub(crate) const fn new(
        columns: &'static [Column],
        row: fn(&Value, Timestamp) -> Option<Row>,
    ) -> Self {
        Self {
            columns,
            row: RowOf::Kind(row),
        }
    }

    /// A printer of `columns` whose rows `row` makes.
    pub fn made(columns: &'static [Column], row: RowFn) -> Self {
        Self {
            columns,
            row: RowOf::Made(row),
        }
    }

    /// The row of `object` at `now`; `None` when the object does not read
    /// as its kind.
    pub fn row(&self, object: &Value, now: Timestamp) -> Option<Row> {
        match &self.row {
            RowOf::Kind(row) => row(object, now),
            RowOf::Made(row) => row(object, now),
        }
    }
}

/// Reads an object as its typed form.
pub(crate) fn typed<T: DeserializeOwned>(object: &Value) -> Option<T> {
    T::deserialize(object).ok()
}
