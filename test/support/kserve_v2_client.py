"""A stock KServe v2 (Open Inference Protocol) client, tritonclient's HTTP client, as a user runs it
against the AI Service with an API key. Used by test/serving.e2e-spec.ts.

Usage: kserve_v2_client.py <host:port/api/v1/ml/serving> <api key> <another tenant's key> <model>
       <records as a JSON list of objects>
Prints one JSON object: what each call answered (and, for the refused calls, status and error).
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype


def refused(call) -> dict:
    try:
        call()
    except InferenceServerException as error:
        return {"status": error.status(), "error": error.message()}
    return {"status": "200"}


def main() -> None:
    url, key, other_key, model, records_json = sys.argv[1:]
    records = json.loads(records_json)
    client = httpclient.InferenceServerClient(url=url)
    mine, theirs = {"X-API-Key": key}, {"X-API-Key": other_key}
    metadata = client.get_model_metadata(model, headers=mine)
    version = metadata["versions"][0]
    inputs = []
    for tensor in metadata["inputs"]:
        values = [record[tensor["name"]] for record in records]
        array = np.array(values, dtype=triton_to_np_dtype(tensor["datatype"])).reshape(-1, 1)
        item = httpclient.InferInput(tensor["name"], list(array.shape), tensor["datatype"])
        item.set_data_from_numpy(array, binary_data=False)
        inputs.append(item)
    answer = client.infer(model, inputs, headers=mine, request_id="e2e-1")
    pinned = client.infer(
        model,
        inputs,
        model_version=version,
        headers=mine,
        outputs=[httpclient.InferRequestedOutput("score", binary_data=False)],
    )
    print(
        json.dumps(
            {
                "server_live": client.is_server_live(headers=mine),
                "server_ready": client.is_server_ready(headers=mine),
                "server_metadata": client.get_server_metadata(headers=mine),
                "model_ready": client.is_model_ready(model, headers=mine),
                "version_ready": client.is_model_ready(model, version, headers=mine),
                "metadata": metadata,
                "infer": {
                    "response": answer.get_response(),
                    "class": answer.as_numpy("class").tolist(),
                    "score": answer.as_numpy("score").tolist(),
                },
                "pinned": {
                    "version": pinned.get_response()["model_version"],
                    "outputs": [output["name"] for output in pinned.get_response()["outputs"]],
                },
                "other_tenant": {
                    "model_ready": client.is_model_ready(model, headers=theirs),
                    "metadata": refused(lambda: client.get_model_metadata(model, headers=theirs)),
                    "infer": refused(lambda: client.infer(model, inputs, headers=theirs)),
                },
                "no_key": refused(lambda: client.get_model_metadata(model)),
            }
        )
    )
    client.close()


if __name__ == "__main__":
    main()
