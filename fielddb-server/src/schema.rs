//! Hand-written OpenAPI schemas for the JSON forms utoipa cannot derive: a field value (the
//! shell's `--json` mapping), a field name, a key, a record, a batch, an index to create and an
//! append. They are exact, so a generated request that matches them is one the server accepts,
//! with one exception JSON Schema cannot express: names and keys are limited in UTF-8 bytes,
//! and `maxLength` counts characters (so a string of multi-byte characters can be refused
//! below it; each description says so).

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
    base64_of_length(0, None)
}

/// `{"$base64": ...}` of at least `min_bytes` decoded bytes, and at most `max_bytes` rounded
/// down to a whole group of 3 (the pattern cannot tell `=` padding by length alone).
fn base64_of_length(min_bytes: usize, max_bytes: Option<usize>) -> ObjectBuilder {
    let encoded = |bytes: usize| bytes.div_ceil(3) * 4;
    let max_bytes = max_bytes.map(|n| n / 3 * 3);
    closed(
        typed(Type::Object)
            .property(
                "$base64",
                typed(Type::String)
                    .pattern(Some(BASE64_PATTERN))
                    .min_length((min_bytes > 0).then(|| encoded(min_bytes)))
                    .max_length(max_bytes.map(encoded)),
            )
            .required("$base64"),
    )
}

/// A field name: 1 to `MAX_FIELD_NAME_LEN` bytes of UTF-8.
fn field_name() -> ObjectBuilder {
    typed(Type::String)
        .min_length(Some(1))
        .max_length(Some(fielddb::MAX_FIELD_NAME_LEN))
        .description(Some(
            "A field name: 1 to 1,024 bytes of UTF-8 (maxLength counts characters; a name of \
             multi-byte characters is refused past 1,024 bytes).",
        ))
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
        .item(typed(Type::Number))
        .item(base64_of_length(1, Some(fielddb::MAX_KEY_LEN)))
        .description(Some(
            "a UTF-8 key as a string, a number (the key is its JSON text), or any key as \
             {\"$base64\": ...}; 1 to 8,192 bytes (maxLength counts characters; the \
             $base64 form's maxLength stops at 8,190 bytes, a whole group of 3)",
        ))
}

fn record() -> ObjectBuilder {
    typed(Type::Object)
        .additional_properties(Some(Schema::AnyOf(field_value().build())))
        .property_names(Some(field_name()))
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

/// A boolean option: true, false, or null (the default).
fn flag() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
}

/// `{"field": NAME}` or `{"fields": [NAME, ...]}`, with `"unique": BOOL, "counted": BOOL`: an
/// index to create.
pub(crate) struct CreateIndexBody;

impl PartialSchema for CreateIndexBody {
    fn schema() -> RefOr<Schema> {
        closed(
            typed(Type::Object)
                .property("field", field_name())
                .property(
                    "fields",
                    utoipa::openapi::schema::ArrayBuilder::new()
                        .items(field_name())
                        .min_items(Some(1))
                        .max_items(Some(8))
                        .description(Some(
                            "Instead of `field`: the fields of a compound index, in order (2 \
                             to 8; one makes an ordinary index). Give `field` or `fields`.",
                        )),
                )
                .property(
                    "unique",
                    flag().description(Some(
                        "No two records may hold the same value (for a compound index, the \
                         same values in all its fields) (null or absent: false).",
                    )),
                )
                .property(
                    "counted",
                    flag().description(Some(
                        "Keep an exact count per value, so an equality count is one read \
                         (null or absent: false).",
                    )),
                ),
        )
        .description(Some(
            "An index to create on one field, or on several (a compound index, named by its \
             fields joined by `,`).",
        ))
        .into()
    }
}

impl ToSchema for CreateIndexBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CreateIndex")
    }
}

/// `{"field": NAME, "value": STRING or {"$base64": ...}}`: what to append.
pub(crate) struct AppendBody;

impl PartialSchema for AppendBody {
    fn schema() -> RefOr<Schema> {
        closed(
            typed(Type::Object)
                .property("field", field_name())
                .property(
                    "value",
                    AnyOfBuilder::new()
                        .item(typed(Type::String))
                        .item(base64_object())
                        .description(Some(
                            "A string, or bytes as {\"$base64\": ...}, of the field's own type.",
                        )),
                )
                .required("field")
                .required("value"),
        )
        .description(Some(
            "The field to append to (created when absent) and what to append.",
        ))
        .into()
    }
}

impl ToSchema for AppendBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AppendBody")
    }
}
