//! Raw REST calls on one resource (and namespace) that keep objects as
//! JSON values, so that printing and patching see every field exactly as
//! the server sent it. Built on kube-rs's request builder and client.

use http::HeaderValue;
use http::header::ACCEPT;
use kube::Client;
use kube::api::{DeleteParams, DynamicObject, GetParams, ListParams, PostParams};
use kube::core::{Request, Resource as _};
use serde_json::Value;

use super::Error;
use super::catalog::Resource;

/// What kubectl sends to get a server-side printed table, with the plain
/// object as the fallback.
const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,\
application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// How many objects one list request asks for (kubectl's `--chunk-size`).
const CHUNK_SIZE: u32 = 500;

/// One resource in one namespace (or across all, or cluster-scoped).
pub struct Endpoint<'a> {
    client: &'a Client,
    resource: &'a Resource,
    request: Request,
}

impl<'a> Endpoint<'a> {
    /// The endpoint of `resource` in `namespace` (ignored for
    /// cluster-scoped resources; `None` lists across all namespaces).
    pub fn new(client: &'a Client, resource: &'a Resource, namespace: Option<&str>) -> Self {
        let namespace = namespace.filter(|_| resource.namespaced);
        let path = DynamicObject::url_path(&resource.api, namespace);
        Self {
            client,
            resource,
            request: Request::new(path),
        }
    }

    /// `GET` one object.
    pub async fn get(&self, name: &str) -> Result<Value, Error> {
        let request = self
            .request
            .get(name, &GetParams::default())
            .map_err(build)?;
        Ok(self.client.request(request).await?)
    }

    /// `GET` one object as a one-row `meta.k8s.io/v1` Table.
    pub async fn get_table(&self, name: &str) -> Result<Value, Error> {
        let mut request = self
            .request
            .get(name, &GetParams::default())
            .map_err(build)?;
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static(TABLE_ACCEPT));
        Ok(self.client.request(request).await?)
    }

    /// Lists every matching object, page after page, as one list whose
    /// items carry their `apiVersion` and `kind`; as a Table when `table`.
    pub async fn list(&self, selectors: &ListParams, table: bool) -> Result<Value, Error> {
        let mut params = selectors.clone().limit(CHUNK_SIZE);
        let mut whole: Option<Value> = None;
        loop {
            let mut request = self.request.list(&params).map_err(build)?;
            if table {
                request
                    .headers_mut()
                    .insert(ACCEPT, HeaderValue::from_static(TABLE_ACCEPT));
            }
            let mut page: Value = self.client.request(request).await?;
            let next = page["metadata"]["continue"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let key = if table { "rows" } else { "items" };
            match whole.as_mut() {
                None => whole = Some(page),
                Some(whole) => {
                    let more = page[key]
                        .as_array_mut()
                        .map(std::mem::take)
                        .unwrap_or_default();
                    if let Some(items) = whole[key].as_array_mut() {
                        items.extend(more);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            params.continue_token = Some(next);
        }
        let mut whole = whole.expect("the loop runs at least once");
        if !table {
            self.type_items(&mut whole);
        }
        Ok(whole)
    }

    /// `POST` a new object.
    pub async fn create(&self, object: &Value, params: &PostParams) -> Result<Value, Error> {
        let body = serde_json::to_vec(object).map_err(|err| Error::Client(err.to_string()))?;
        let request = self.request.create(params, body).map_err(build)?;
        Ok(self.client.request(request).await?)
    }

    /// `DELETE` an object in the background, as kubectl does.
    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        let request = self
            .request
            .delete(name, &DeleteParams::background())
            .map_err(build)?;
        self.client.request_text(request).await?;
        Ok(())
    }

    /// Items of a list come without `apiVersion` and `kind`; kubectl
    /// prints them with.
    fn type_items(&self, list: &mut Value) {
        let Some(items) = list["items"].as_array_mut() else {
            return;
        };
        for item in items.iter_mut().filter(|item| item.is_object()) {
            if item.get("apiVersion").is_none_or(Value::is_null) {
                item["apiVersion"] = Value::from(self.resource.api.api_version.clone());
            }
            if item.get("kind").is_none_or(Value::is_null) {
                item["kind"] = Value::from(self.resource.api.kind.clone());
            }
        }
    }
}

fn build(err: kube::core::request::Error) -> Error {
    Error::Client(format!("cannot build the request: {err}"))
}
