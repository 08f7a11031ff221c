/// The release of the texting service, defined once: every executable answers `--version`
/// with it.
public enum TextingVersion {
    /// Semantic version of this build of all five executables.
    public static let current = "0.1.0"
}
