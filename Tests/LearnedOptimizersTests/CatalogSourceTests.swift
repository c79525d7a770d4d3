import Foundation
import LearnedOptimizers
import Testing

@Suite struct CatalogSourceTests {
    @Test func aGivenFileWinsThenTheShippedOneWithoutAPresetThenAnUntrainedPreset() {
        let shipped: (String) -> URL? = { $0 == "optimus" ? URL(fileURLWithPath: "/ckpt/optimus.safetensors") : nil }
        func source(_ name: String, _ checkpoint: String?, _ preset: String?) -> LearnedOptimizerCatalog.Source {
            LearnedOptimizerCatalog.source(name: name, checkpoint: checkpoint, preset: preset, shipped: shipped)
        }
        #expect(source("optimus", "mine.safetensors", "small") == .file("mine.safetensors"))
        #expect(source("optimus", nil, nil) == .file("/ckpt/optimus.safetensors"))
        #expect(source("optimus", nil, "small") == .untrained(preset: "small"))
        #expect(source("optimus-no-state", nil, nil) == .untrained(preset: "paper"))
        #expect(source("adafactor-mlp", nil, nil) == .untrained(preset: "reference"))
    }
}
