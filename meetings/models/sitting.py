"""Models of the live sitting: the floor, the speaker queue, the snapshot version."""
