import Foundation
import OptimusNumerics
import Testing
@testable import HumanMotion

@Suite struct PoseMetricTests {
    static func randomPoints(_ g: inout Xoshiro256StarStar, frames: Int = 5) -> [[Vec3]] {
        (0..<frames).map { _ in (0..<18).map { _ in Vec3(g.uniform(-1, 1), g.uniform(0, 2), g.uniform(-1, 1)) } }
    }

    @Test func alignmentsRemoveExactlyWhatTheyShould() {
        var g = Xoshiro256StarStar(seed: 3)
        let truth = Self.randomPoints(&g)
        let shift = Vec3(0.1, -0.2, 0.3)
        let shifted = truth.map { $0.map { $0 + shift } }
        #expect(abs(PoseMetrics.mpjpeG(shifted, truth) - 1000 * norm(shift)) < 1e-9)
        #expect(PoseMetrics.mpjpe(shifted, truth) < 1e-9)
        let r = Quat.axisAngle(Vec3(1, 2, 3) / norm(Vec3(1, 2, 3)), 1.1)
        let similar = truth.map { $0.map { 1.3 * r.rotate($0) + shift } }
        #expect(PoseMetrics.mpjpePA(similar, truth) < 1e-9)
        #expect(PoseMetrics.mpjpe(similar, truth) > 10)
        let s = PoseMetrics.similarity(from: truth[0], to: similar[0])
        #expect(abs(s.scale - 1.3) < 1e-12)
    }

    @Test func totalVariationIsTheMeanAcceleration() {
        let dt = 1.0 / 30
        let constantVelocity = (0..<10).map { t in [Vec3(Double(t) * 0.1, 1, 0)] }
        #expect(PoseMetrics.totalVariation(constantVelocity, dt: dt) < 1e-9)
        let accelerating = (0..<10).map { t in [Vec3(0, 0.5 * 9.81 * pow(Double(t) * dt, 2), 0)] }
        #expect(abs(PoseMetrics.totalVariation(accelerating, dt: dt) - 9.81) < 1e-9)
    }

    @Test func footSkateCountsSlidingFeetOnTheGroundOnly() {
        let dt = 1.0 / 30
        func frames(_ toeX: [Double], height: Double) -> [[Vec3]] {
            toeX.map { x in
                var k = [Vec3](repeating: Vec3(0, 1, 0), count: 18)
                k[7] = Vec3(x, height, 0)
                k[14] = Vec3(0, height, 0.2)
                return k
            }
        }
        // Sliding 3 cm per frame (0.9 m/s) in 2 of 4 transitions, on the ground.
        #expect(PoseMetrics.footSkatePercent(frames([0, 0.03, 0.06, 0.06, 0.06], height: 0.01), dt: dt) == 50)
        // The same motion 20 cm up is a swing, not a skate.
        #expect(PoseMetrics.footSkatePercent(frames([0, 0.03, 0.06, 0.06, 0.06], height: 0.2), dt: dt) == 0)
        // 1 cm per frame is below the threshold.
        #expect(PoseMetrics.footSkatePercent(frames([0, 0.01, 0.02], height: 0.01), dt: dt) == 0)
    }

    @Test func cameraProjectsTheTargetToTheImageCentre() {
        let c = PinholeCamera.standard(lookingAt: .zero)
        let centre = c.project(Vec3(0, 0.9, 0))!
        #expect(abs(centre.x - 500) < 1e-9 && abs(centre.y - 500) < 1e-9)
        let above = c.project(Vec3(0, 1.4, 0))!
        #expect(above.y < 500)  // up in the world is up in the image
        #expect(c.project(Vec3(0, 1.5, 10)) == nil)  // behind the camera
    }
}
