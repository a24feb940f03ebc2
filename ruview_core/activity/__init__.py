"""Activities (sitting down, standing up, falling, walking ...) from movement episodes, and the
posture they lead to: :mod:`.episodes` cuts them, :mod:`.profile` describes them, :mod:`.classify`
names them, :mod:`.tracker` carries the posture, :mod:`.monitor` runs all of it per hop."""
