extends Node
# The CI smoke test (run headless with godot3-server): build a LudoforgeDungeon from the server at
# $LUDOFORGE_URL, then check that the TileMap's used cells are exactly the level's non-void tiles and that every
# tile's semantic matches the legend's; write a JSON report to $LUDOFORGE_REPORT; exit non-zero on any mismatch.

const Dungeon = preload("res://addons/ludoforge/dungeon.gd")


func _ready():
	var report := {"ok": false, "errors": []}
	var dungeon = Dungeon.new()
	dungeon.server_url = OS.get_environment("LUDOFORGE_URL") if OS.get_environment("LUDOFORGE_URL") != "" else "http://127.0.0.1:8750"
	dungeon.token = OS.get_environment("LUDOFORGE_TOKEN")
	dungeon.seed_value = int(OS.get_environment("LUDOFORGE_SEED")) if OS.get_environment("LUDOFORGE_SEED") != "" else 7
	add_child(dungeon)
	var failure = yield(dungeon.build(), "completed")
	if failure != "":
		report["errors"].append(failure)
	else:
		_check(dungeon, report)
	report["ok"] = report["errors"].empty()
	var path := OS.get_environment("LUDOFORGE_REPORT")
	if path == "":
		path = "user://smoke_report.json"
	var out := File.new()
	out.open(path, File.WRITE)
	out.store_string(to_json(report))
	out.close()
	print("ludoforge smoke: ", "ok" if report["ok"] else "FAILED " + str(report["errors"]))
	OS.exit_code = 0 if report["ok"] else 1
	get_tree().quit()


func _check(dungeon, report: Dictionary) -> void:
	var grid: Array = Dungeon.semantic_grid(dungeon.level)
	var expected := 0
	for y in range(grid.size()):
		for x in range(grid[y].size()):
			if grid[y][x] != "void":
				expected += 1
	var used: Array = dungeon.tilemap.get_used_cells()
	report["used_cells"] = used.size()
	report["non_void_tiles"] = expected
	report["width"] = dungeon.level["width"]
	report["height"] = dungeon.level["height"]
	if used.size() != expected:
		report["errors"].append("used cells %d != non-void tiles %d" % [used.size(), expected])
	var mismatches := 0
	for cell in used:
		var id: int = dungeon.tilemap.get_cellv(cell)
		var name: String = dungeon.tilemap.tile_set.tile_get_name(id)
		var semantic: String = name.split(":")[0]
		if Dungeon.ground(grid[int(cell.y)][int(cell.x)]) != semantic:
			mismatches += 1
	report["tile_mismatches"] = mismatches
	if mismatches:
		report["errors"].append("%d cells' tiles do not match the legend" % mismatches)
	var roles := {}
	for sprite in dungeon.placed:
		roles[sprite.get_meta("role")] = roles.get(sprite.get_meta("role"), 0) + 1
		if sprite.texture == null:
			report["errors"].append("a cast sprite has no texture")
	report["cast"] = roles
	if not roles.has("player"):
		report["errors"].append("no player placed")
	report["tileset_tiles"] = dungeon.tilemap.tile_set.get_tiles_ids().size()
