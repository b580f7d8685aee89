extends Node
# The content API over HTTPRequest (so it also works in a Web export). Every call is a coroutine:
#     var dungeon = yield(client.post_json("/v1/dungeons", {"seed": 7}), "completed")
# An answer is {"ok": bool, "status": int, "body": PoolByteArray, "json": Variant, "error": String}.

var base_url := "http://127.0.0.1:8750"
var token := ""


func _init(url := "", bearer := ""):
	if url != "":
		base_url = url.rstrip("/")
	token = bearer


func _headers(content_type: String) -> PoolStringArray:
	var headers := PoolStringArray()
	if content_type != "":
		headers.append("Content-Type: " + content_type)
	if token != "":
		headers.append("Authorization: Bearer " + token)
	return headers


func _request(path: String, method: int, body: String, content_type: String) -> Dictionary:
	var http := HTTPRequest.new()
	http.use_threads = false
	add_child(http)
	var error := http.request(base_url + path, _headers(content_type), true, method, body)
	if error != OK:
		http.queue_free()
		yield(get_tree(), "idle_frame")
		return {"ok": false, "status": 0, "body": PoolByteArray(), "json": null, "error": "request failed: %d" % error}
	var done = yield(http, "request_completed")  # [result, status, headers, body]
	http.queue_free()
	var answer := {"ok": done[0] == HTTPRequest.RESULT_SUCCESS and done[1] < 400, "status": done[1], "body": done[3], "json": null, "error": ""}
	var payload: PoolByteArray = done[3]
	if payload.size() > 0 and (payload[0] == 123 or payload[0] == 91):  # "{" or "[": JSON (a PNG is left as bytes)
		var parsed := JSON.parse(payload.get_string_from_utf8())
		if parsed.error == OK:
			answer["json"] = parsed.result
	if not answer["ok"]:
		answer["error"] = "HTTP %d: %s" % [done[1], payload.subarray(0, int(min(300, payload.size())) - 1).get_string_from_utf8() if payload.size() else "(no body)"]
	return answer


func post_json(path: String, body: Dictionary) -> Dictionary:
	return yield(_request(path, HTTPClient.METHOD_POST, to_json(body), "application/json"), "completed")


func get_bytes(path: String) -> Dictionary:
	return yield(_request(path, HTTPClient.METHOD_GET, "", ""), "completed")


func fetch_files(manifest: Dictionary) -> Dictionary:
	# The files of a `packaging: "urls"` answer, by name, as PoolByteArray.
	var files := {}
	for entry in manifest["files"]:
		var got = yield(get_bytes(entry["url"]), "completed")
		if not got["ok"]:
			return {"error": got["error"]}
		files[entry["name"]] = got["body"]
	return files
