tool
extends EditorPlugin
# Registers LudoforgeDungeon, a node that fetches a dungeon from the server and builds itself.


func _enter_tree():
	add_custom_type("LudoforgeDungeon", "Node2D", preload("dungeon.gd"), null)


func _exit_tree():
	remove_custom_type("LudoforgeDungeon")
