// HumanMotion is the reconstruction application of the humanoid simulator: its API takes and returns the simulator's
// types (Simulator, Humanoid, MotionClip, Pose, Vec3, …), so `import HumanMotion` brings HumanoidSimulation with it.
@_exported import HumanoidSimulation
