import { MigrationInterface, QueryRunner } from "typeorm";

export class EncryptionInstances1796685498075 implements MigrationInterface {
    name = 'EncryptionInstances1796685498075'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`encryption_instances\` (\`instance_id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`current_key_id\` varchar(16) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`seen_at\` datetime(3) NOT NULL, PRIMARY KEY (\`instance_id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE \`encryption_instances\``);
    }

}
