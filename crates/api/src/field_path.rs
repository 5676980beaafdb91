//! The path to a field inside an object, as validation errors name it
//! (`spec.template.spec.containers[0].image`, `metadata.labels[app]`).
//!
//! A path is a value: every builder method returns a new path, so one parent
//! can be shared by the checks of all its children.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    /// A named field: rendered as `.name` (without the dot at the start).
    Field(String),
    /// A position in a list: rendered as `[3]`.
    Index(usize),
    /// A key in a map: rendered as `[key]`.
    Key(String),
}

/// A path to a field, rendered the way Kubernetes renders field paths in
/// error messages and `Status` causes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The empty path (renders as the empty string).
    pub fn root() -> Self {
        Self::default()
    }

    /// A path made of one field name, e.g. `FieldPath::new("metadata")`.
    pub fn new(name: &str) -> Self {
        Self::root().child(name)
    }

    /// This path followed by the field `name`.
    pub fn child(&self, name: &str) -> Self {
        self.with(Segment::Field(name.to_string()))
    }

    /// This path followed by the list position `index`.
    pub fn index(&self, index: usize) -> Self {
        self.with(Segment::Index(index))
    }

    /// This path followed by the map key `key`.
    pub fn key(&self, key: &str) -> Self {
        self.with(Segment::Key(key.to_string()))
    }

    /// Whether the path has no segment at all.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    fn with(&self, segment: Segment) -> Self {
        let mut segments = self.segments.clone();
        segments.push(segment);
        Self { segments }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => write!(f, "[{key}]")?,
            }
        }
        Ok(())
    }
}

impl From<&FieldPath> for String {
    fn from(path: &FieldPath) -> Self {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_kubernetes() {
        let spec = FieldPath::new("spec").child("template").child("spec");
        let cases = [
            (
                spec.child("containers").index(0).child("image"),
                "spec.template.spec.containers[0].image",
            ),
            (
                FieldPath::new("metadata").child("labels").key("app"),
                "metadata.labels[app]",
            ),
            (FieldPath::root(), ""),
            (FieldPath::root().index(2), "[2]"),
            (FieldPath::new("data").key("a.b").key("c"), "data[a.b][c]"),
        ];
        for (path, want) in cases {
            assert_eq!(path.to_string(), want);
        }
    }

    #[test]
    fn builders_leave_the_parent_unchanged() {
        let parent = FieldPath::new("spec");
        let _child = parent.child("replicas");
        assert_eq!(parent.to_string(), "spec");
        assert!(FieldPath::root().is_root());
        assert!(!parent.is_root());
    }
}
