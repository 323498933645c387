"""The OpenAPI document describes core's operations completely (specs/010): typed
bodies with bounds, enums, required fields, descriptions and examples; every status an
operation can answer, with the problem schema; one page envelope for collections."""

from __future__ import annotations

import pytest

from dcsim.web.contracts import MAX_JSON_DEPTH, json_depth

PROBLEM = "application/problem+json"
CORE_PREFIXES = ("/sim", "/events", "/tokens", "/plugins", "/healthz", "/readyz")
PUBLIC = {"/healthz", "/readyz"}
#: Bodies whose model depends on a path parameter: a fault kind's own parameters
#: (GET /sim/inject/kinds), an object documented as such and checked in the handler.
OPEN_BODIES = {("post", "/sim/inject/{kind}")}
PAGED = ["/sim/vms", "/sim/datacenters", "/sim/clusters", "/sim/hosts", "/sim/datastores", "/sim/networks"]
PAGED += ["/sim/inject", "/events", "/tokens"]


@pytest.fixture
def schema_doc(dcsim_client):
    return dcsim_client.get("/schema/openapi.json").json()


def _operations(doc):
    for path, item in doc["paths"].items():
        if path.startswith(CORE_PREFIXES):
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield path, method, operation


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_core_operation_documents_its_problem_answers(schema_doc):
    operations = list(_operations(schema_doc))
    assert len(operations) > 30
    for path, method, operation in operations:
        statuses = set(operation["responses"])
        expected = {"400", "429"} if path in PUBLIC else {"400", "401", "403", "429"}
        if "requestBody" in operation:
            expected |= {"413", "415", "422"}
        assert expected <= statuses, (method, path, statuses)
        for status, response in operation["responses"].items():
            if int(status) >= 400 and not (path == "/readyz" and status == "503"):
                content = response["content"]
                assert set(content) == {PROBLEM}, (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDocument"}


def test_no_core_operation_is_untyped(schema_doc):
    for path, method, operation in _operations(schema_doc):
        if "requestBody" in operation and (method, path) not in OPEN_BODIES:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in body, (method, path, body)
            model = _resolve(schema_doc, body)
            assert model["additionalProperties"] is False, (method, path)
        for status, response in operation["responses"].items():
            if status.startswith("2") and "content" in response:
                schema = next(iter(response["content"].values()))["schema"]
                typed = "$ref" in schema or "$ref" in schema.get("items", {}) or schema.get("type") == "string"
                assert typed, (method, path, schema)


@pytest.mark.parametrize("path", PAGED)
def test_collections_answer_the_page_envelope(schema_doc, dcsim_client, path):
    operation = schema_doc["paths"][path]["get"]
    page = _resolve(schema_doc, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["required"]) == {"items", "total", "limit", "offset"}
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == 1000
    assert params["offset"]["schema"]["minimum"] == 0
    body = dcsim_client.get(f"{path}?limit=1").json()
    assert set(body) == {"items", "total", "limit", "offset"} and body["limit"] == 1 and len(body["items"]) <= 1


def test_vm_create_shows_bounds_enums_required_descriptions_examples(schema_doc):
    body = schema_doc["paths"]["/sim/vms"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    model = _resolve(schema_doc, body)
    assert model["required"] == ["name"]
    props = model["properties"]
    assert (props["cpu"]["minimum"], props["cpu"]["maximum"]) == (1, 768)
    assert (props["memory_mb"]["minimum"], props["memory_mb"]["maximum"]) == (128, 24 * 1024 * 1024)
    assert (props["disk_gb"]["minimum"], props["disk_gb"]["maximum"]) == (1, 64 * 1024)
    assert props["name"]["pattern"] == "^[A-Za-z0-9._-]+$" and props["name"]["maxLength"] == 80
    assert props["name"]["description"] and props["name"]["examples"]
    assert set(_resolve(schema_doc, props["guest_os"])["enum"]) == {"rhel9", "ubuntu22"}
    power = schema_doc["paths"]["/sim/vms/{vm}/power"]["post"]["requestBody"]["content"]["application/json"]
    assert set(_resolve(schema_doc, power["schema"])["properties"]["action"]["enum"]) == {
        "on",
        "off",
        "suspend",
        "reset",
    }


def test_state_and_diff_are_typed_and_the_fault_body_documented(schema_doc):
    def answer(path):
        content = schema_doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        return _resolve(schema_doc, content["schema"])

    state = answer("/sim/state")
    assert set(state["required"]) == {"objects", "faults"}
    objects = state["properties"]["objects"]
    assert objects["type"] == "object" and objects["additionalProperties"]["type"] == "array"
    assert all(kind in objects["description"] for kind in ("datacenter", "cluster", "host", "vm", "blade"))
    fault = _resolve(schema_doc, state["properties"]["faults"]["items"])
    assert {"id", "kind", "targets", "params", "injected_at"} <= set(fault["properties"])
    diff = answer("/sim/state/diff")
    assert set(diff["required"]) == {"marked_at", "added", "removed", "changed"}
    change = _resolve(schema_doc, diff["properties"]["changed"]["items"])
    assert set(change["required"]) == {"kind", "id", "name", "field", "before", "after"}
    added = _resolve(schema_doc, diff["properties"]["added"]["items"])
    assert set(added["required"]) == {"kind", "id", "name"}
    inject = schema_doc["paths"]["/sim/inject/{kind}"]["post"]
    body = inject["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "object" and "422" in body["description"] and "GET /sim/inject/kinds" in body["description"]
    assert "422" in inject["responses"]


def test_problem_schema_lists_field_errors(schema_doc):
    problem = schema_doc["components"]["schemas"]["ProblemDocument"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert "errors" in problem["properties"]


def test_readyz_documents_its_503_body(schema_doc):
    answers = schema_doc["paths"]["/readyz"]["get"]["responses"]
    assert (
        answers["503"]["content"]["application/json"]["schema"]
        == answers["200"]["content"]["application/json"]["schema"]
    )


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 0),
        (b"[" * 40 + b"]" * 40, 40),
        (b"[" * 20 + b"]" * 20, 20),
        (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[[[["}', 1),
        (b'[{"a": [{"b": [' + b"[" * 40 + b"]" * 40 + b"]}]}]", 45),
    ],
)
def test_json_depth_counts_brackets_outside_strings(raw, depth):
    # A body with too few brackets to be deep is not counted (0); any other is counted exactly.
    result = json_depth(raw)
    assert result == depth or (result == 0 and depth <= MAX_JSON_DEPTH)


def test_the_cattrs_converter_reports_field_errors_the_same_way():
    import attrs

    from dcsim.convert import from_json
    from dcsim.errors import InvalidInput

    @attrs.frozen
    class Window:
        start: int
        end: int

    with pytest.raises(InvalidInput) as raised:
        from_json({"start": "soon"}, Window)
    assert {(e["field"], e["message"]) for e in raised.value.extra["errors"]} == {
        ("start", "invalid value for type, expected int"),
        ("end", "required field missing"),
    }
