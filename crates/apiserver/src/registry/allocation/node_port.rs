//! Node ports, as upstream keeps them: one bitmap of the range in the store
//! (`/registry/ranges/servicenodeports`, a RangeAllocation's `range` and
//! base64 `data`), changed by compare-and-swap so that several API servers
//! never hand out the same port. A Service of type NodePort or
//! LoadBalancer gets a port for each of its ports that names none; a
//! requested port must be free and in the range; a LoadBalancer with
//! `externalTrafficPolicy: Local` gets a health check node port too. Ports
//! two entries of one Service share (TCP and UDP on one number) count once.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use keelson_api::{ApiError, FieldError, FieldPath};
use keelson_store::StoreError;
use serde_json::{Value, json};

use super::cluster_ip::random_below;
use crate::objects::admission::Attributes;
use crate::objects::{Objects, store_error};

/// The store key of the bitmap.
pub const KEY: &str = "/registry/ranges/servicenodeports";
/// How often a write of the bitmap that lost a race is tried again.
const ATTEMPTS: usize = 64;

/// A short random pause after a lost race, so that racing writers spread.
async fn back_off() {
    let micros = u64::from(random_below(2000));
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

/// The node port allocator of one range.
pub struct NodePorts {
    range: RangeInclusive<u16>,
}

/// The bitmap as read, and the revision to write it back over.
struct Bitmap {
    bits: Vec<u8>,
    revision: Option<i64>,
}

impl Bitmap {
    fn is_set(&self, offset: usize) -> bool {
        self.bits
            .get(offset / 8)
            .is_some_and(|byte| byte & (1 << (offset % 8)) != 0)
    }

    fn set(&mut self, offset: usize, on: bool) {
        if self.bits.len() <= offset / 8 {
            self.bits.resize(offset / 8 + 1, 0);
        }
        let mask = 1 << (offset % 8);
        match on {
            true => self.bits[offset / 8] |= mask,
            false => self.bits[offset / 8] &= !mask,
        }
    }
}

impl NodePorts {
    pub fn new(range: RangeInclusive<u16>) -> Self {
        NodePorts { range }
    }

    fn range_text(&self) -> String {
        format!("{}-{}", self.range.start(), self.range.end())
    }

    fn size(&self) -> usize {
        usize::from(self.range.end() - self.range.start()) + 1
    }

    /// Takes the ports `service` needs that the stored object (on update)
    /// does not already hold, and writes them into it.
    pub async fn take(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        service: &mut Value,
    ) -> Result<(), ApiError> {
        if !needs_node_ports(service) && !needs_health_check(service) {
            return Ok(());
        }
        let held = write.old.map(held_ports).unwrap_or_default();
        for _ in 0..ATTEMPTS {
            let mut bitmap = self.read(objects).await?;
            let mut planned = service.clone();
            let taken = self.plan(&mut bitmap, &mut planned, &held, write)?;
            if taken.is_empty() || write.dry_run {
                *service = planned;
                return Ok(());
            }
            match self.write(objects, &bitmap).await {
                Ok(()) => {
                    *service = planned;
                    return Ok(());
                }
                Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => {
                    back_off().await
                }
                Err(err) => return Err(store_error(err, "", "services", write.name)),
            }
        }
        Err(ApiError::internal(
            "failed to allocate a nodePort: the range kept changing",
        ))
    }

    /// Marks in `bitmap` the ports `service` asks for or gets; returns the
    /// ports taken.
    fn plan(
        &self,
        bitmap: &mut Bitmap,
        service: &mut Value,
        held: &BTreeSet<u16>,
        write: &Attributes<'_>,
    ) -> Result<Vec<u16>, ApiError> {
        let mut taken = Vec::new();
        if needs_node_ports(service)
            && let Some(ports) = service["spec"]["ports"].as_array_mut()
        {
            for (i, port) in ports.iter_mut().enumerate() {
                let path = FieldPath::new("spec")
                    .child("ports")
                    .index(i)
                    .child("nodePort");
                let full = "failed to allocate a nodePort: range is full";
                let slot = (&path, full);
                if let Some(number) =
                    self.take_one(bitmap, &port["nodePort"], held, &taken, write, slot)?
                {
                    port["nodePort"] = json!(number);
                    taken.push(number);
                }
            }
        }
        if needs_health_check(service) {
            let path = FieldPath::new("spec").child("healthCheckNodePort");
            let slot = (&path, "range is full");
            let requested = service["spec"]["healthCheckNodePort"].clone();
            if let Some(number) = self.take_one(bitmap, &requested, held, &taken, write, slot)? {
                service["spec"]["healthCheckNodePort"] = json!(number);
                taken.push(number);
            }
        }
        Ok(taken)
    }

    /// The port a field asks for (checked) or a free one, marked in
    /// `bitmap`; `None` when the Service already holds the one asked for.
    fn take_one(
        &self,
        bitmap: &mut Bitmap,
        requested: &Value,
        held: &BTreeSet<u16>,
        taken: &[u16],
        write: &Attributes<'_>,
        (path, full): (&FieldPath, &str),
    ) -> Result<Option<u16>, ApiError> {
        let number = match requested.as_u64().filter(|p| *p != 0) {
            Some(number) => {
                let number = self.check_requested(bitmap, number, held, taken, write, path)?;
                if held.contains(&number) || taken.contains(&number) {
                    return Ok(None);
                }
                number
            }
            None => self
                .free_port(bitmap)
                .ok_or_else(|| ApiError::internal(full))?,
        };
        bitmap.set(self.offset(number), true);
        Ok(Some(number))
    }

    fn offset(&self, port: u16) -> usize {
        usize::from(port - self.range.start())
    }

    /// The requested port, refused as upstream when it is outside the range
    /// or another Service holds it.
    fn check_requested(
        &self,
        bitmap: &Bitmap,
        number: u64,
        held: &BTreeSet<u16>,
        taken: &[u16],
        write: &Attributes<'_>,
        path: &FieldPath,
    ) -> Result<u16, ApiError> {
        let refuse = |why: String| {
            let cause = FieldError::invalid(path, number, why);
            ApiError::invalid("", "Service", write.name, &[cause])
        };
        let port = u16::try_from(number)
            .ok()
            .filter(|port| self.range.contains(port))
            .ok_or_else(|| {
                refuse(format!(
                    "provided port is not in the valid range. The range of valid ports is {}",
                    self.range_text()
                ))
            })?;
        let ours = held.contains(&port) || taken.contains(&port);
        if !ours && bitmap.is_set(self.offset(port)) {
            return Err(refuse("provided port is already allocated".into()));
        }
        Ok(port)
    }

    /// A free port: a random one in the upper part of the range, leaving
    /// the lower part for requested ports (upstream's static subrange),
    /// then any.
    fn free_port(&self, bitmap: &Bitmap) -> Option<u16> {
        let size = self.size();
        let offset = static_band(size).min(size);
        let upper = size - offset;
        let start = match upper {
            0 => 0,
            _ => offset + random_below(u32::try_from(upper).unwrap_or(u32::MAX)) as usize,
        };
        let order = (start..size).chain(offset..start).chain(0..offset);
        order
            .into_iter()
            .find(|at| !bitmap.is_set(*at))
            .and_then(|at| u16::try_from(at).ok())
            .map(|at| self.range.start() + at)
    }

    async fn read(&self, objects: &Objects) -> Result<Bitmap, ApiError> {
        let kv = objects
            .store()
            .get(KEY)
            .await
            .map_err(|err| store_error(err, "", "services", ""))?;
        let Some(kv) = kv else {
            return Ok(Bitmap {
                bits: Vec::new(),
                revision: None,
            });
        };
        let stored: Value = serde_json::from_slice(&kv.value)
            .map_err(|err| ApiError::internal(format!("the node port bitmap is damaged: {err}")))?;
        let bits = STANDARD
            .decode(stored["data"].as_str().unwrap_or(""))
            .map_err(|err| ApiError::internal(format!("the node port bitmap is damaged: {err}")))?;
        Ok(Bitmap {
            bits,
            revision: Some(kv.mod_revision),
        })
    }

    async fn write(&self, objects: &Objects, bitmap: &Bitmap) -> Result<(), StoreError> {
        let value = json!({"range": self.range_text(), "data": STANDARD.encode(&bitmap.bits)});
        let bytes = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let store = objects.store();
        match bitmap.revision {
            Some(revision) => store.update(KEY, bytes, revision).await.map(|_| ()),
            None => store.create(KEY, bytes).await.map(|_| ()),
        }
    }

    /// Clears `ports` in the bitmap.
    async fn clear(&self, objects: &Objects, ports: &BTreeSet<u16>) {
        let ours: Vec<u16> = ports
            .iter()
            .copied()
            .filter(|p| self.range.contains(p))
            .collect();
        if ours.is_empty() {
            return;
        }
        for _ in 0..ATTEMPTS {
            let Ok(mut bitmap) = self.read(objects).await else {
                return;
            };
            for port in &ours {
                bitmap.set(self.offset(*port), false);
            }
            match self.write(objects, &bitmap).await {
                Ok(()) => return,
                Err(StoreError::Conflict { .. }) => back_off().await,
                Err(err) => {
                    tracing::warn!(error = %err, "failed to free node ports");
                    return;
                }
            }
        }
    }

    /// Gives back what this write took: the ports the stored object did
    /// not hold.
    pub async fn give_back(&self, objects: &Objects, write: &Attributes<'_>, service: &Value) {
        let held = write.old.map(held_ports).unwrap_or_default();
        let taken = held_ports(service).difference(&held).copied().collect();
        self.clear(objects, &taken).await;
    }

    /// Frees the ports `old` held that `new` does not.
    pub async fn release_dropped(&self, objects: &Objects, old: &Value, new: &Value) {
        let dropped = held_ports(old)
            .difference(&held_ports(new))
            .copied()
            .collect();
        self.clear(objects, &dropped).await;
    }

    /// Frees every port of a deleted Service.
    pub async fn release_all(&self, objects: &Objects, service: &Value) {
        self.clear(objects, &held_ports(service)).await;
    }
}

/// The lower part of a range kept for requested ports, as upstream's
/// `calculateRangeOffset` (min 16, max 128 for ports, a 32nd of the range).
fn static_band(size: usize) -> usize {
    if size <= 16 {
        return 0;
    }
    (size / 32).clamp(16, 128)
}

/// Whether a Service's ports get node ports.
fn needs_node_ports(service: &Value) -> bool {
    let spec = &service["spec"];
    match spec["type"].as_str() {
        Some("NodePort") => true,
        Some("LoadBalancer") => spec["allocateLoadBalancerNodePorts"] != false,
        _ => false,
    }
}

/// Whether a Service gets a health check node port: a LoadBalancer whose
/// external traffic stays on the node that takes it.
fn needs_health_check(service: &Value) -> bool {
    let spec = &service["spec"];
    spec["type"] == "LoadBalancer" && spec["externalTrafficPolicy"] == "Local"
}

/// The node ports a Service holds, its health check port among them.
fn held_ports(service: &Value) -> BTreeSet<u16> {
    let mut held = BTreeSet::new();
    let as_port = |value: &Value| {
        value
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
    };
    if needs_node_ports(service) {
        let ports = service["spec"]["ports"].as_array().into_iter().flatten();
        held.extend(ports.filter_map(|port| as_port(&port["nodePort"])));
    }
    if needs_health_check(service) {
        held.extend(as_port(&service["spec"]["healthCheckNodePort"]));
    }
    held
}

/// On update, the node ports the stored Service holds when the client left
/// them out, matched by port number and protocol (upstream's
/// `patchAllocatedValues`).
pub fn keep_allocated(service: &mut Value, old: &Value) {
    if needs_health_check(service)
        && needs_health_check(old)
        && service["spec"]["healthCheckNodePort"].as_u64().unwrap_or(0) == 0
        && let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert(
            "healthCheckNodePort".into(),
            old["spec"]["healthCheckNodePort"].clone(),
        );
    }
    if !needs_node_ports(service) || !needs_node_ports(old) {
        return;
    }
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let Some(ports) = service["spec"]["ports"].as_array_mut() else {
        return;
    };
    let key = |p: &Value| {
        (
            p["port"].clone(),
            p["protocol"].as_str().unwrap_or("TCP").to_string(),
        )
    };
    for port in ports
        .iter_mut()
        .filter(|p| p["nodePort"].as_u64().unwrap_or(0) == 0)
    {
        if let Some(held) = old_ports.iter().find(|o| key(o) == key(port))
            && let Some(map) = port.as_object_mut()
        {
            map.insert("nodePort".into(), held["nodePort"].clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap() -> Bitmap {
        Bitmap {
            bits: Vec::new(),
            revision: None,
        }
    }

    #[test]
    fn bits_set_and_clear() {
        let mut map = bitmap();
        map.set(9, true);
        assert!(map.is_set(9) && !map.is_set(8));
        map.set(9, false);
        assert!(!map.is_set(9));
    }

    #[test]
    fn free_ports_come_from_the_upper_band_then_the_rest() {
        let ports = NodePorts::new(30000..=32767);
        assert_eq!(static_band(ports.size()), 86);
        for _ in 0..20 {
            let port = ports.free_port(&bitmap()).expect("a port");
            assert!((30086..=32767).contains(&port), "{port}");
        }
        let small = NodePorts::new(30000..=30003);
        let mut map = bitmap();
        for at in 0..3 {
            map.set(at, true);
        }
        assert_eq!(small.free_port(&map), Some(30003));
        map.set(3, true);
        assert_eq!(small.free_port(&map), None);
    }

    #[test]
    fn updates_keep_allocated_ports_by_number_and_protocol() {
        let old = json!({"spec": {"type": "NodePort", "ports": [
            {"port": 80, "protocol": "TCP", "nodePort": 30080},
            {"port": 53, "protocol": "UDP", "nodePort": 30053}]}});
        let mut new = json!({"spec": {"type": "NodePort", "ports": [
            {"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "TCP"}]}});
        keep_allocated(&mut new, &old);
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
        assert!(new["spec"]["ports"][1].get("nodePort").is_none());
        assert_eq!(
            held_ports(&old).into_iter().collect::<Vec<_>>(),
            [30053, 30080]
        );
    }
}
