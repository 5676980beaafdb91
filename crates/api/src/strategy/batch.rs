//! The batch/v1 kinds: jobs (whose selector a new job derives from its
//! uid) and cron jobs; both carry a generation.

use serde_json::Value;

use super::kind_strategy;
use crate::field_selector::{Field, NAME, NAMESPACE, Reader, SelectableFields};
use crate::printers::workloads as print;

kind_strategy! {
    /// batch/v1 Job.
    JobStrategy, JOB, api::batch::v1::Job {
        generation: true,
        defaults: crate::defaults::workloads::job,
        complete_create: job_selector,
        validate: crate::validate::batch::job,
        printer: (print::JOB, print::job),
        fields: SelectableFields::core(&[
            NAME,
            NAMESPACE,
            Field {
                name: "status.successful",
                reader: Reader::Count(&["status", "succeeded"]),
            },
        ])
        .refused_as("batchv1.Job"),
    }
}

/// The selector and pod labels a job gets from its uid.
fn job_selector(object: &mut Value) {
    let uid = object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    crate::defaults::job_selector_defaults(object, &uid);
}

kind_strategy! {
    /// batch/v1 CronJob.
    CronJobStrategy, CRON_JOB, api::batch::v1::CronJob {
        generation: true,
        defaults: crate::defaults::workloads::cron_job,
        validate: crate::validate::batch::cron_job,
        printer: (print::CRON_JOB, print::cron_job),
    }
}
