//! Hand-written OpenAPI schemas for the JSON forms utoipa cannot derive: a field value (the
//! shell's `--json` mapping), a key, a record, and a batch. They are exact, so a generated
//! request that matches them is one the server accepts.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::limits::MAX_BATCH_OPS;

/// Standard base64 with padding.
const BASE64_PATTERN: &str = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";

fn typed(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(t))
}

fn closed(builder: ObjectBuilder) -> ObjectBuilder {
    builder.additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
}

fn base64_object() -> ObjectBuilder {
    closed(
        typed(Type::Object)
            .property("$base64", typed(Type::String).pattern(Some(BASE64_PATTERN)))
            .required("$base64"),
    )
}

fn field_value() -> AnyOfBuilder {
    AnyOfBuilder::new()
        .item(typed(Type::Null))
        .item(typed(Type::Boolean))
        .item(
            typed(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(i64::MIN))
                .maximum(Some(i64::MAX)),
        )
        .item(typed(Type::Number).format(Some(SchemaFormat::KnownFormat(KnownFormat::Double))))
        .item(typed(Type::String))
        .item(base64_object())
        .item(closed(
            typed(Type::Object)
                .property(
                    "$float",
                    typed(Type::String).enum_values(Some(["inf", "-inf"])),
                )
                .required("$float"),
        ))
        .description(Some(
            "null, boolean, integer (i64), number, string, {\"$base64\": ...} for bytes, {\"$float\": \"inf\"|\"-inf\"}",
        ))
}

fn key() -> AnyOfBuilder {
    AnyOfBuilder::new()
        .item(
            typed(Type::String)
                .min_length(Some(1))
                .max_length(Some(fielddb::MAX_KEY_LEN)),
        )
        .item(base64_object())
        .description(Some(
            "a UTF-8 key as a string, or any key as {\"$base64\": ...}",
        ))
}

fn record() -> ObjectBuilder {
    typed(Type::Object)
        .additional_properties(Some(Schema::AnyOf(field_value().build())))
        .property_names(Some(
            typed(Type::String)
                .min_length(Some(1))
                .max_length(Some(fielddb::MAX_FIELD_NAME_LEN / 4)),
        ))
        .description(Some(
            "A record: a JSON object of fields, in order (names of 1 to 1,024 bytes).",
        ))
}

/// A record as a JSON object of fields.
pub(crate) struct RecordBody;

impl PartialSchema for RecordBody {
    fn schema() -> RefOr<Schema> {
        record().into()
    }
}

impl ToSchema for RecordBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RecordBody")
    }
}

/// `{"ops": [{"put": KEY, "record": {...}} | {"delete": KEY}]}`.
pub(crate) struct BatchRequest;

impl PartialSchema for BatchRequest {
    fn schema() -> RefOr<Schema> {
        let put = closed(
            typed(Type::Object)
                .property("put", key())
                .property("record", record())
                .required("put")
                .required("record"),
        );
        let delete = closed(
            typed(Type::Object)
                .property("delete", key())
                .required("delete"),
        );
        let ops = ArrayBuilder::new()
            .items(AnyOfBuilder::new().item(put).item(delete))
            .max_items(Some(MAX_BATCH_OPS));
        closed(typed(Type::Object).property("ops", ops).required("ops"))
            .description(Some("Puts and deletes applied in order, atomically."))
            .into()
    }
}

impl ToSchema for BatchRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BatchRequest")
    }
}
