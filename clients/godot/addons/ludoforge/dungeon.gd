extends Node2D
# LudoforgeDungeon: asks the server for a dungeon, its generated tileset and its cast, then builds a TileMap from
# the atlas and places the cast on the spawns. Drop it in a scene, set `server_url` and `seed`, and call
# `yield(build(), "completed")` (or tick `build_on_ready`).
#
# How a tile is chosen, the same rule as ludoforge's own renderer (index.json says which rule each semantic uses):
#   grid4      variant (y % 4) * 4 + x % 4 of a 4x4 block cut from one seamless texture
#   wall_mask  one of 16 variants by the wall neighbours (north 1, east 2, south 4, west 8)
#   single     the one tile
# Void cells stay empty.

const Client = preload("client.gd")
const ON_FLOOR := ["start", "key", "enemy", "npc", "treasure"]
# Cells whose semantic is a thing standing on the floor: the TileMap shows the floor under it (the cast and items
# are drawn on top, as in ludoforge's own renderer).

export var server_url := "http://127.0.0.1:8750"
export var token := ""
export var seed_value := 7
export var rooms := 6
export var tile_px := 32
export var build_on_ready := false

var tilemap: TileMap
var level := {}          # the dungeon in ludoforge's level JSON
var index := {}          # the tileset's index.json
var cast := {}           # the cast's cast.json
var placed := []         # the Sprite nodes of the cast
var client


func _ready():
	if build_on_ready:
		var outcome = yield(build(), "completed")
		if outcome != "":
			push_error(outcome)


func build() -> String:
	# Fetch and build; returns "" on success, else what went wrong.
	client = Client.new(server_url, token)
	add_child(client)
	var answer = yield(client.post_json("/v1/dungeons", {"seed": seed_value, "rooms": rooms}), "completed")
	if not answer["ok"]:
		return "dungeon: " + answer["error"]
	level = answer["json"]["levels"][0]["level"]
	answer = yield(client.post_json("/v1/tilesets", {"seed": seed_value, "tile_px": tile_px, "packaging": "urls"}), "completed")
	if not answer["ok"]:
		return "tileset: " + answer["error"]
	var tiles = yield(client.fetch_files(answer["json"]), "completed")
	if tiles.has("error"):
		return "tileset files: " + tiles["error"]
	index = JSON.parse(tiles["index.json"].get_string_from_utf8()).result
	answer = yield(client.post_json("/v1/sprites", {"seed": seed_value, "packaging": "urls"}), "completed")
	if not answer["ok"]:
		return "sprites: " + answer["error"]
	var sheets = yield(client.fetch_files(answer["json"]), "completed")
	if sheets.has("error"):
		return "sprite files: " + sheets["error"]
	cast = JSON.parse(sheets["cast.json"].get_string_from_utf8()).result
	tilemap = TileMap.new()
	tilemap.name = "Tiles"
	tilemap.cell_size = Vector2(index["tile_px"], index["tile_px"])
	tilemap.tile_set = build_tileset(_image(tiles["atlas.png"]), index)
	add_child(tilemap)
	fill_tilemap(tilemap, level, index)
	place_cast(level, cast, sheets)
	return ""


static func _image(png: PoolByteArray) -> Image:
	var image := Image.new()
	image.load_png_from_buffer(png)
	return image


static func build_tileset(atlas: Image, tileset_index: Dictionary) -> TileSet:
	# One TileSet tile per atlas cell, named "<semantic>:<variant>", in atlas order (so tile id = cell index).
	var texture := ImageTexture.new()
	texture.create_from_image(atlas, 0)
	var px: int = tileset_index["tile_px"]
	var columns: int = tileset_index["columns"]
	var tileset := TileSet.new()
	for semantic in tileset_index["semantics"]:
		var entry: Dictionary = tileset_index["semantics"][semantic]
		for variant in range(entry["variants"]):
			var id: int = int(entry["first"]) + variant
			tileset.create_tile(id)
			tileset.tile_set_name(id, "%s:%d" % [semantic, variant])
			tileset.tile_set_texture(id, texture)
			tileset.tile_set_region(id, Rect2((id % columns) * px, (id / columns) * px, px, px))
	return tileset


static func semantic_grid(level_json: Dictionary) -> Array:
	# The level's tiles as semantics (rows of strings), through its own legend.
	var by_id := {}
	for tile in level_json["legend"]:
		by_id[int(tile["id"])] = tile["semantic"]
	var rows := []
	for row in level_json["tiles"]:
		var names := []
		for id in row:
			names.append(by_id[int(id)])
		rows.append(names)
	return rows


static func tile_for(grid: Array, x: int, y: int, tileset_index: Dictionary) -> int:
	# The tile id for cell (x, y), or -1 for none (void, or a semantic the tileset lacks).
	var semantic: String = ground(grid[y][x])
	if semantic == "void" or not tileset_index["semantics"].has(semantic):
		return -1
	var entry: Dictionary = tileset_index["semantics"][semantic]
	var variant := 0
	if entry["rule"] == "grid4":
		variant = (y % 4) * 4 + x % 4
	elif entry["rule"] == "wall_mask":
		var bits := [[0, -1, 1], [1, 0, 2], [0, 1, 4], [-1, 0, 8]]
		for b in bits:
			var nx: int = x + b[0]
			var ny: int = y + b[1]
			if ny >= 0 and ny < grid.size() and nx >= 0 and nx < grid[ny].size() and grid[ny][nx] == "wall":
				variant += b[2]
	return int(entry["first"]) + int(min(variant, int(entry["variants"]) - 1))


static func ground(semantic: String) -> String:
	# The semantic the TileMap draws for a cell: the floor under a thing standing on it, else its own.
	return "floor" if semantic in ON_FLOOR else semantic


static func fill_tilemap(map: TileMap, level_json: Dictionary, tileset_index: Dictionary) -> void:
	var grid := semantic_grid(level_json)
	for y in range(grid.size()):
		for x in range(grid[y].size()):
			var id := tile_for(grid, x, y, tileset_index)
			if id >= 0:
				map.set_cell(x, y, id)


func place_cast(level_json: Dictionary, cast_json: Dictionary, sheets: Dictionary) -> void:
	# A Sprite per character: the player on the start, an enemy or NPC sheet on each spawn and enemy tile.
	var px: float = index["tile_px"]
	var frame: int = cast_json["sprite_px"]
	var counters := {}
	var grid := semantic_grid(level_json)
	var spots := []
	for y in range(grid.size()):
		for x in range(grid[y].size()):
			if grid[y][x] == "start":
				spots.append(["player", x, y])
			elif grid[y][x] == "enemy":
				spots.append(["enemy", x, y])
	for spawn in level_json["spawns"]:
		var role := "player" if spawn["kind"] == "start" else ("npc" if spawn["kind"] == "npc" else "enemy")
		spots.append([role, int(spawn["x"]), int(spawn["y"])])
	for spot in spots:
		var role: String = spot[0]
		if not cast_json["roles"].has(role):
			continue
		var files: Array = cast_json["roles"][role]
		var k: int = counters.get(role, 0)
		counters[role] = k + 1
		var texture := ImageTexture.new()
		texture.create_from_image(_image(sheets[files[k % files.size()]]), 0)
		var sprite := Sprite.new()
		sprite.name = "%s_%d" % [role, k]
		sprite.texture = texture
		sprite.region_enabled = true
		sprite.region_rect = Rect2(0, 0, frame, frame)  # facing down, first frame
		sprite.centered = false
		sprite.position = Vector2(spot[1] * px, spot[2] * px)
		sprite.scale = Vector2(px / frame, px / frame)
		sprite.set_meta("role", role)
		sprite.set_meta("cell", Vector2(spot[1], spot[2]))
		add_child(sprite)
		placed.append(sprite)
